//! A browser for the end-to-end tests: its cookie jar, no redirects followed, and the
//! helpers of the web-login flows (PKCE, the `/authorize` URL, form fields, the code exchange).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{DB, STRONG, TestApp, unique};

pub(crate) const CALLBACK: &str = "http://localhost:8080/callback";

pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    pub(crate) cookies: std::collections::BTreeMap<String, String>,
    set_cookies: Vec<String>,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
            cookies: std::collections::BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    pub(crate) fn session(&self) -> Option<&String> {
        self.cookies
            .get("portcullis_session")
            .or_else(|| self.cookies.get("__Host-portcullis_session"))
    }

    /// The `Set-Cookie` headers of the last answer, as sent.
    pub(crate) fn last_set_cookies(&self) -> &[String] {
        &self.set_cookies
    }

    fn remember(&mut self, response: &reqwest::Response) {
        self.set_cookies.clear();
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().expect("cookie");
            self.set_cookies.push(value.to_owned());
            let pair = value.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, path_and_query: &str) -> (StatusCode, String, String) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("get");
        self.finish(response).await
    }

    pub(crate) async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("post");
        self.finish(response).await
    }

    /// Posts the hosted login form of the transaction `state`.
    pub(crate) async fn submit_login(
        &mut self,
        state: &str,
        username: &str,
        password: &str,
    ) -> (StatusCode, String, String) {
        self.post(
            "/u/login",
            &[
                ("state", state),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    async fn finish(&mut self, response: reqwest::Response) -> (StatusCode, String, String) {
        self.remember(&response);
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().expect("location").to_owned())
            .unwrap_or_default();
        (status, location, response.text().await.expect("body"))
    }
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            let v = v.replace('+', " ");
            percent_decode(&v)
        })
    })
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

pub(crate) fn pkce() -> (String, String) {
    let verifier = unique("verifier-0123456789-0123456789-0123456789");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub(crate) fn authorize_path(challenge: &str, extra: &str) -> String {
    format!(
        "/authorize?client_id=my-spa&response_type=code&redirect_uri={}&scope=openid%20email&state=xyz&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    )
}

pub(crate) async fn exchange(app: &TestApp, code: &str, verifier: &str) -> (StatusCode, Value) {
    app.post_form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "my-spa"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
}

/// The text of `page` between `start` and the next `end`.
pub(crate) fn between(page: &str, start: &str, end: &str) -> Option<String> {
    let rest = page.split(start).nth(1)?;
    Some(rest.split(end).next()?.to_owned())
}

/// A hidden field's value on a page.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    between(page, &format!("name=\"{name}\" value=\""), "\"").expect(name)
}

/// Follows a page's "Continue" link to the application's callback; returns the code.
pub(crate) async fn continue_to_callback(browser: &mut Browser, page: &str) -> String {
    let page = page.replace("&#x2f;", "/");
    let href = between(&page, "href=\"/u/continue?", "\"")
        .expect("continue link")
        .replace("&amp;", "&");
    let (status, location, _) = browser.get(&format!("/u/continue?{href}")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    query_param(&location, "code").expect("code")
}

/// A code for `challenge`: through the login page, or at once from the browser's session.
pub(crate) async fn code_for(browser: &mut Browser, email: &str, challenge: &str) -> String {
    let (_, location, _) = browser.get(&authorize_path(challenge, "")).await;
    if let Some(state) = query_param(&location, "state").filter(|_| location.starts_with("/u/")) {
        let (_, location, _) = browser.submit_login(&state, email, STRONG).await;
        return query_param(&location, "code").expect("code");
    }
    query_param(&location, "code").expect("code from the session")
}

/// The parameters of a URL's fragment.
pub(crate) fn fragment_param(url: &str, name: &str) -> Option<String> {
    let fragment = url.split_once('#')?.1;
    query_param(&format!("?{fragment}"), name)
}

/// `POST /co/authenticate` from `origin`, as auth0.js sends it.
pub(crate) async fn co_authenticate(
    browser: &mut Browser,
    origin: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    let response = browser
        .http
        .post(format!("{}/co/authenticate", browser.base))
        .header("Origin", origin)
        .header(COOKIE, browser.cookie_header())
        .json(&serde_json::json!({
            "client_id": client_id,
            "username": username,
            "password": password,
            "realm": DB,
            "credential_type": "http://auth0.com/oauth/grant-type/password-realm",
        }))
        .send()
        .await
        .expect("co/authenticate");
    browser.remember(&response);
    let status = response.status();
    (status, response.json().await.expect("json"))
}

pub(crate) fn ticket_authorize_path(ticket: &str) -> String {
    format!(
        "/authorize?client_id=embedded&response_type=code&redirect_uri={}&scope=openid%20email&state=xyz&login_ticket={ticket}",
        "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    )
}
