//! The sandbox on its own: what scripts can ask for, and that hostile scripts are contained.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis_actions::QuickJsRunner;
use portcullis_core::actions::{
    Script, ScriptFailure, ScriptKind, ScriptLimits, ScriptOutcome, ScriptRunner, Trigger,
};
use serde_json::{Value, json};

fn action(trigger: Trigger, code: &str) -> Script {
    Script {
        name: "test".to_owned(),
        kind: ScriptKind::Action(trigger),
        code: Arc::from(code),
        secrets: serde_json::Map::new(),
    }
}

fn rule(code: &str) -> Script {
    Script {
        name: "rule".to_owned(),
        kind: ScriptKind::Rule,
        code: Arc::from(code),
        secrets: serde_json::Map::new(),
    }
}

fn event() -> Value {
    json!({"user": {"email": "a@example.com", "user_metadata": {}}, "secrets": {"KEY": "s3cret"}})
}

async fn run(script: Script) -> Result<ScriptOutcome, ScriptFailure> {
    QuickJsRunner::new()
        .run(&script, event(), ScriptLimits::default())
        .await
}

#[tokio::test]
async fn a_post_login_action_can_deny_set_metadata_claims_and_mfa() {
    let outcome = run(action(
        Trigger::PostLogin,
        r#"exports.onExecutePostLogin = async (event, api) => {
            await Promise.resolve();
            console.log("login of", event.user.email, { secret: event.secrets.KEY.length });
            api.user.setUserMetadata("plan", "pro").user.setAppMetadata("roles", ["admin"]);
            api.idToken.setCustomClaim("https://example.com/plan", "pro");
            api.accessToken.setCustomClaim("https://example.com/n", 3);
            api.multifactor.enable("any");
            if (event.user.email.endsWith("@example.com")) api.access.deny("no examples", "Not here.");
        };"#,
    ))
    .await
    .expect("outcome");
    let deny = outcome.deny.expect("denied");
    assert_eq!(deny.reason, "no examples");
    assert_eq!(deny.user_message.as_deref(), Some("Not here."));
    assert_eq!(outcome.user_metadata["plan"], "pro");
    assert_eq!(outcome.app_metadata["roles"], json!(["admin"]));
    assert_eq!(outcome.id_token_claims["https://example.com/plan"], "pro");
    assert_eq!(outcome.access_token_claims["https://example.com/n"], 3);
    assert_eq!(outcome.multifactor.as_deref(), Some("any"));
    assert_eq!(outcome.logs, ["login of a@example.com {\"secret\":6}"]);
}

#[tokio::test]
async fn triggers_get_only_their_api_and_a_missing_handler_does_nothing() {
    let outcome = run(action(
        Trigger::PostUserRegistration,
        "exports.onExecutePostUserRegistration = (event, api) => { console.log(typeof api.access, typeof api.cache); };",
    ))
    .await
    .expect("outcome");
    assert_eq!(outcome.logs, ["undefined object"]);
    let outcome = run(action(
        Trigger::PostLogin,
        "exports.somethingElse = () => { throw 1; };",
    ))
    .await
    .expect("nothing ran");
    assert_eq!(outcome, ScriptOutcome::default());
}

#[tokio::test]
async fn rules_call_back_with_claims_or_errors() {
    let outcome = run(rule(
        r#"function (user, context, callback) {
            context.idToken["https://example.com/email"] = user.email;
            context.multifactor = { provider: "any" };
            auth0.users.updateUserMetadata(user.user_id, { seen: true }).then(() => callback(null, user, context));
        }"#,
    ))
    .await
    .expect("outcome");
    assert_eq!(
        outcome.id_token_claims["https://example.com/email"],
        "a@example.com"
    );
    assert_eq!(outcome.multifactor.as_deref(), Some("any"));
    assert_eq!(outcome.user_metadata["seen"], true);

    let denied = run(rule(
        "function (user, context, callback) { callback(new UnauthorizedError('Only admins')); }",
    ))
    .await
    .expect("outcome")
    .deny
    .expect("denied");
    assert_eq!(
        (denied.reason.as_str(), denied.unauthorized),
        ("Only admins", true)
    );
    let failed = run(rule(
        "function (u, c, callback) { callback(new Error('oops')); }",
    ))
    .await
    .expect("outcome")
    .deny
    .expect("denied");
    assert_eq!(
        (failed.reason.as_str(), failed.unauthorized),
        ("oops", false)
    );
    assert!(matches!(
        run(rule("function (u, c, callback) { /* never calls back */ }")).await,
        Err(ScriptFailure::Threw(_))
    ));
}

#[tokio::test]
async fn hostile_scripts_are_contained() {
    let limits = ScriptLimits::default();
    let started = Instant::now();
    let looping = run(action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = () => { for (;;) {} };",
    ))
    .await;
    assert_eq!(looping, Err(ScriptFailure::Timeout));
    assert!(started.elapsed() < Duration::from_millis(limits.cpu_millis * 5));

    let async_loop = run(action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = async () => { await null; while (true) {} };",
    ))
    .await;
    assert_eq!(async_loop, Err(ScriptFailure::Timeout));

    let bomb = run(action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = () => { const kept = []; for (;;) kept.push(new Uint8Array(1 << 20)); };",
    ))
    .await;
    assert_eq!(bomb, Err(ScriptFailure::OutOfMemory));
    // Many small allocations hit whichever limit comes first.
    let slow_bomb = run(action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };",
    ))
    .await;
    assert!(
        matches!(
            slow_bomb,
            Err(ScriptFailure::OutOfMemory | ScriptFailure::Timeout)
        ),
        "{slow_bomb:?}"
    );

    for (code, expected) in [
        (
            "require('fs').readFileSync('/etc/passwd')",
            "Cannot find module 'fs'",
        ),
        ("process.exit(1)", "process is not defined"),
        (
            "globalThis.constructor.constructor('return process')().exit()",
            "process is not defined",
        ),
        ("(function f() { f(); })()", "RangeError"),
        ("throw 'a string'", "a string"),
    ] {
        let result = run(action(
            Trigger::PostLogin,
            &format!("exports.onExecutePostLogin = () => {{ {code}; }};"),
        ))
        .await;
        match result {
            Err(ScriptFailure::Threw(message)) => {
                assert!(message.contains(expected), "{code}: {message}")
            }
            other => panic!("{code}: {other:?}"),
        }
    }

    // A syntax error, and values JSON cannot carry.
    assert!(matches!(
        run(action(
            Trigger::PostLogin,
            "exports.onExecutePostLogin = () => {"
        ))
        .await,
        Err(ScriptFailure::Threw(_))
    ));
    assert!(matches!(
        run(action(
            Trigger::PostLogin,
            "exports.onExecutePostLogin = (e, api) => { api.idToken.setCustomClaim('n', 10n); };"
        ))
        .await,
        Err(ScriptFailure::Threw(_))
    ));
}

#[tokio::test]
async fn each_execution_starts_clean_but_the_cache_persists() {
    let runner = QuickJsRunner::new();
    let polluter = action(
        Trigger::PostLogin,
        r#"exports.onExecutePostLogin = (event, api) => {
            console.log(String(Object.prototype.polluted), String(api.cache.get("k") && api.cache.get("k").value));
            Object.prototype.polluted = "yes";
            globalThis.leak = 1;
            api.cache.set("k", "v");
        };"#,
    );
    let first = runner
        .run(&polluter, event(), ScriptLimits::default())
        .await
        .expect("first");
    let second = runner
        .run(&polluter, event(), ScriptLimits::default())
        .await
        .expect("second");
    assert_eq!(first.logs, ["undefined undefined"]);
    assert_eq!(second.logs, ["undefined v"], "no pollution, but the cache");
}

#[tokio::test]
async fn other_requests_keep_flowing_while_a_script_loops() {
    let runner = Arc::new(QuickJsRunner::new());
    let looping = action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = () => { for (;;) {} };",
    );
    let quick = action(
        Trigger::PostLogin,
        "exports.onExecutePostLogin = (e, api) => { api.idToken.setCustomClaim('ok', true); };",
    );
    let slow = {
        let runner = runner.clone();
        tokio::spawn(async move {
            runner
                .run(
                    &looping,
                    event(),
                    ScriptLimits {
                        cpu_millis: 1000,
                        ..ScriptLimits::default()
                    },
                )
                .await
        })
    };
    let started = Instant::now();
    for _ in 0..20 {
        let outcome = runner
            .run(&quick, event(), ScriptLimits::default())
            .await
            .expect("quick");
        assert_eq!(outcome.id_token_claims["ok"], true);
    }
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow.await.expect("join"), Err(ScriptFailure::Timeout));
}
