//! The sandbox of Actions and Rules: each execution gets a fresh QuickJS runtime and context
//! with a memory limit and a CPU-time deadline (the engine's interrupt handler), on a
//! blocking thread, so a script that loops, allocates without end or throws fails its own
//! flow and nothing else. Only JSON crosses the boundary: the event in, the outcome out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use portcullis_core::actions::{
    Script, ScriptFailure, ScriptKind, ScriptLimits, ScriptOutcome, ScriptRunner,
};
use rquickjs::{CatchResultExt, CaughtError, Context, Function, Promise, Runtime};
use serde_json::{Map, Value};

const HARNESS: &str = include_str!("harness.js");
/// The most an outcome may weigh (claims, metadata and logs together).
const MAX_OUTCOME_BYTES: usize = 256 << 10;
/// The native stack QuickJS may use; deep recursion becomes a catchable RangeError.
const MAX_STACK_BYTES: usize = 512 << 10;
/// How many `api.cache` entries an action keeps.
const MAX_CACHE_ENTRIES: usize = 1000;

/// The QuickJS sandbox. `api.cache` entries live in this process, per script, as Auth0's
/// cache is best-effort.
#[derive(Debug, Default)]
pub struct QuickJsRunner {
    caches: Mutex<HashMap<String, Map<String, Value>>>,
}

impl QuickJsRunner {
    pub fn new() -> Self {
        Self::default()
    }

    fn cache_of(&self, script: &str) -> Map<String, Value> {
        self.caches
            .lock()
            .map(|c| c.get(script).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn keep_cache(&self, script: &str, mut cache: Map<String, Value>) {
        if cache.len() > MAX_CACHE_ENTRIES {
            let excess: Vec<String> = cache
                .keys()
                .take(cache.len() - MAX_CACHE_ENTRIES)
                .cloned()
                .collect();
            for key in excess {
                cache.remove(&key);
            }
        }
        if let Ok(mut caches) = self.caches.lock() {
            caches.insert(script.to_owned(), cache);
        }
    }
}

#[async_trait::async_trait]
impl ScriptRunner for QuickJsRunner {
    async fn run(
        &self,
        script: &Script,
        event: Value,
        limits: ScriptLimits,
    ) -> Result<ScriptOutcome, ScriptFailure> {
        let cache = self.cache_of(&script.name);
        let owned = script.clone();
        let (outcome, cache) =
            tokio::task::spawn_blocking(move || execute(&owned, &event, cache, limits))
                .await
                .map_err(|e| ScriptFailure::Unavailable(e.to_string()))??;
        if matches!(script.kind, ScriptKind::Action(_)) {
            self.keep_cache(&script.name, cache);
        }
        Ok(outcome)
    }
}

/// One execution, start to end, on the calling thread.
pub fn execute(
    script: &Script,
    event: &Value,
    cache: Map<String, Value>,
    limits: ScriptLimits,
) -> Result<(ScriptOutcome, Map<String, Value>), ScriptFailure> {
    let unavailable = |e: rquickjs::Error| ScriptFailure::Unavailable(e.to_string());
    let runtime = Runtime::new().map_err(unavailable)?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(MAX_STACK_BYTES);
    let deadline = Instant::now() + Duration::from_millis(limits.cpu_millis);
    runtime.set_interrupt_handler(Some(Box::new(move || Instant::now() > deadline)));
    let context = Context::full(&runtime).map_err(unavailable)?;
    let timed_out = || Instant::now() > deadline;

    let event_json = event.to_string();
    let cache_json = Value::Object(cache).to_string();
    let started: Result<(), ScriptFailure> = context.with(|ctx| {
        ctx.eval::<(), _>(HARNESS)
            .catch(&ctx)
            .map_err(|e| failure(e, timed_out()))?;
        let promise: Promise = match &script.kind {
            ScriptKind::Action(trigger) => {
                // CommonJS: the code runs inside a function of (exports, module, require).
                let factory: Function = ctx
                    .eval(format!(
                        "(function (exports, module, require) {{\n{}\n}})",
                        script.code
                    ))
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                let run: Function = ctx
                    .globals()
                    .get("__portcullisRunAction")
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                run.call((
                    factory,
                    trigger.as_str(),
                    trigger.handler(),
                    event_json.as_str(),
                    cache_json.as_str(),
                ))
                .catch(&ctx)
                .map_err(|e| failure(e, timed_out()))?
            }
            ScriptKind::Rule => {
                let rule: Function = ctx
                    .eval(format!("({}\n)", script.code))
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                let run: Function = ctx
                    .globals()
                    .get("__portcullisRunRule")
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                run.call((rule, event_json.as_str()))
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?
            }
        };
        ctx.globals()
            .set("__portcullisResult", promise)
            .map_err(|e| ScriptFailure::Unavailable(e.to_string()))?;
        Ok(())
    });
    started?;

    // Microtasks (async handlers, awaited promises) run until none is left.
    loop {
        match runtime.execute_pending_job() {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) if timed_out() => return Err(ScriptFailure::Timeout),
            Err(e) => {
                let message = e.0.with(|ctx| {
                    let caught = CaughtError::from_error(&ctx, rquickjs::Error::Exception);
                    describe(&caught)
                });
                return Err(classify(message, false));
            }
        }
    }

    let settled: Result<String, ScriptFailure> = context.with(|ctx| {
        let promise: Promise = ctx
            .globals()
            .get("__portcullisResult")
            .map_err(|e| ScriptFailure::Unavailable(e.to_string()))?;
        match promise.result::<String>() {
            None => Err(ScriptFailure::Threw(
                "the script did not finish (a Rule must call its callback)".into(),
            )),
            Some(result) => result.catch(&ctx).map_err(|e| failure(e, timed_out())),
        }
    });
    let json = settled?;
    if json.len() > MAX_OUTCOME_BYTES {
        return Err(ScriptFailure::Invalid("the outcome is too large".into()));
    }
    let mut value: Value =
        serde_json::from_str(&json).map_err(|e| ScriptFailure::Invalid(e.to_string()))?;
    let cache = match value.as_object_mut().and_then(|o| o.remove("cache")) {
        Some(Value::Object(cache)) => cache,
        _ => Map::new(),
    };
    let outcome: ScriptOutcome =
        serde_json::from_value(value).map_err(|e| ScriptFailure::Invalid(e.to_string()))?;
    Ok((outcome, cache))
}

fn describe(error: &CaughtError<'_>) -> String {
    match error {
        CaughtError::Exception(exception) => {
            let message = exception.message().unwrap_or_default();
            let name = exception
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".to_owned());
            if message.is_empty() {
                name
            } else {
                format!("{name}: {message}")
            }
        }
        CaughtError::Value(value) => value
            .as_string()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "a non-error value was thrown".to_owned()),
        CaughtError::Error(e) => e.to_string(),
    }
}

fn failure(error: CaughtError<'_>, timed_out: bool) -> ScriptFailure {
    classify(describe(&error), timed_out)
}

fn classify(message: String, timed_out: bool) -> ScriptFailure {
    if timed_out || message.contains("interrupted") {
        ScriptFailure::Timeout
    } else if message.contains("out of memory") {
        ScriptFailure::OutOfMemory
    } else {
        ScriptFailure::Threw(message)
    }
}
