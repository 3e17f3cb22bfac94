//! The hosted pages' templates: built-in ones compiled into the binary, each replaceable by a
//! file of the same name in `branding.templates_dir`, all with the tenant's branding.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{AutoEscape, Environment, Value};
use portcullis_core::config::Branding;
use serde::Serialize;

/// Every page template by name. Partials start with `_`.
const BUILT_IN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("_alert.html", include_str!("../../templates/_alert.html")),
    (
        "_continue.html",
        include_str!("../../templates/_continue.html"),
    ),
    ("login.html", include_str!("../../templates/login.html")),
    ("signup.html", include_str!("../../templates/signup.html")),
    (
        "reset-request.html",
        include_str!("../../templates/reset-request.html"),
    ),
    (
        "reset-password.html",
        include_str!("../../templates/reset-password.html"),
    ),
    (
        "mfa-challenge.html",
        include_str!("../../templates/mfa-challenge.html"),
    ),
    (
        "mfa-recovery-challenge.html",
        include_str!("../../templates/mfa-recovery-challenge.html"),
    ),
    (
        "mfa-enroll.html",
        include_str!("../../templates/mfa-enroll.html"),
    ),
    (
        "mfa-recovery-code.html",
        include_str!("../../templates/mfa-recovery-code.html"),
    ),
    ("confirm.html", include_str!("../../templates/confirm.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "form-post.html",
        include_str!("../../templates/form-post.html"),
    ),
    (
        "co-verify.html",
        include_str!("../../templates/co-verify.html"),
    ),
    (
        "web-message.html",
        include_str!("../../templates/web-message.html"),
    ),
];

/// Any serializable value as template data.
pub(crate) fn data<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// The page renderer, built once at start-up.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Compiles the built-in templates and the tenant's replacements. A replacement that does
    /// not parse, or names no built-in page, stops the start-up with a message saying so.
    pub fn new(branding: &Branding) -> Result<Self, String> {
        let mut env = Environment::new();
        // Every page is HTML, whatever a replacement file is called.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for name in branding.templates.keys() {
            if !BUILT_IN.iter().any(|(n, _)| n == name) {
                let known: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "branding.templates_dir: `{name}` is not a page template (one of {})",
                    known.join(", ")
                ));
            }
        }
        for (name, source) in BUILT_IN {
            let source = branding
                .templates
                .get(*name)
                .cloned()
                .unwrap_or_else(|| (*source).to_owned());
            env.add_template_owned(*name, source)
                .map_err(|e| format!("page template {name}: {e}"))?;
        }
        env.add_global("branding", data(branding));
        let pages = Self { env };
        // Each page renders with no data, so a template error shows now, not to a user
        // (partials, `_*.html`, need their including page's data).
        for (name, _) in BUILT_IN.iter().filter(|(n, _)| !n.starts_with('_')) {
            pages
                .render_str(name, minijinja::context! {})
                .map_err(|e| format!("page template {name}: {e}"))?;
        }
        Ok(pages)
    }

    fn render_str(&self, name: &str, context: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// The page `name` with `context`, answered with `status`.
    pub fn render(&self, status: StatusCode, name: &str, context: impl Serialize) -> Response {
        match self.render_str(name, data(&context)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "rendering a page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>This page could not be shown.</p>"),
                )
                    .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding(templates: &[(&str, &str)]) -> Branding {
        Branding {
            page_title: "Acme".to_owned(),
            logo_url: None,
            favicon_url: None,
            primary_color: "#635dff".to_owned(),
            page_background: "#f4f4f6".to_owned(),
            templates: templates
                .iter()
                .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
                .collect(),
        }
    }

    fn body(response: Response) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(async {
                axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body")
                    .to_vec()
            });
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn every_built_in_page_renders_and_escapes_what_it_is_given() {
        let pages = Pages::new(&branding(&[])).expect("pages");
        let html = body(pages.render(
            StatusCode::OK,
            "login.html",
            minijinja::context! { title => "Log in", username => "<script>x</script>", error => "a\"b" },
        ));
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("<title>Log in | Acme</title>"));
    }

    #[test]
    fn replacements_must_parse_and_name_a_page() {
        let replaced =
            Pages::new(&branding(&[("message.html", "<p>{{ text }}</p>")])).expect("pages");
        let html = body(replaced.render(
            StatusCode::OK,
            "message.html",
            minijinja::context! { text => "hi" },
        ));
        assert_eq!(html, "<p>hi</p>");
        let broken = Pages::new(&branding(&[("login.html", "{% if %}")])).expect_err("syntax");
        assert!(broken.contains("login.html"), "{broken}");
        let unknown = Pages::new(&branding(&[("logn.html", "x")])).expect_err("unknown");
        assert!(unknown.contains("logn.html"), "{unknown}");
    }
}
