//! The sandbox of Actions and Rules: each execution gets a fresh QuickJS runtime and context
//! with a memory limit and a CPU-time deadline (the engine's interrupt handler), on a
//! blocking thread, so a script that loops, allocates without end or throws fails its own
//! flow and nothing else. Only JSON crosses the boundary: the event in, the outcome out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_core::actions::{
    Script, ScriptFailure, ScriptKind, ScriptLimits, ScriptOutcome, ScriptRunner,
};
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, FromJs, Function, Promise, Runtime, qjs,
};
use serde_json::{Map, Value};

const HARNESS: &str = include_str!("harness.js");
/// The most an outcome may weigh (claims, metadata and logs together).
const MAX_OUTCOME_BYTES: usize = 256 << 10;
/// The native stack QuickJS may use; deep recursion becomes a catchable RangeError.
const MAX_STACK_BYTES: usize = 512 << 10;
/// How many `api.cache` entries an action keeps.
const MAX_CACHE_ENTRIES: usize = 1000;

/// QuickJS bytecode, shared by the executions that load it.
type Bytecode = Arc<Vec<u8>>;

/// Compiled code: the harness, and each script by name with the digest of its source, so a
/// changed script is compiled again.
#[derive(Debug, Default)]
struct CompiledScripts {
    harness: Option<Bytecode>,
    scripts: HashMap<String, (u64, Bytecode)>,
}

/// The QuickJS sandbox. Scripts are compiled to bytecode once and each execution loads it
/// into a fresh runtime and context; `api.cache` entries live in this process, per script, as
/// Auth0's cache is best-effort.
#[derive(Debug, Default)]
pub struct QuickJsRunner {
    caches: Mutex<HashMap<String, Map<String, Value>>>,
    compiled: Arc<Mutex<CompiledScripts>>,
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

    /// One execution on the calling thread (the async [`ScriptRunner::run`] puts it on a
    /// blocking thread).
    pub fn execute(
        &self,
        script: &Script,
        event: &Value,
        limits: ScriptLimits,
    ) -> Result<ScriptOutcome, ScriptFailure> {
        let cache = self.cache_of(&script.name);
        let (outcome, cache) = execute(&self.compiled, script, event, cache, limits)?;
        if matches!(script.kind, ScriptKind::Action(_)) {
            self.keep_cache(&script.name, cache);
        }
        Ok(outcome)
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
        let compiled = self.compiled.clone();
        let (outcome, cache) =
            tokio::task::spawn_blocking(move || execute(&compiled, &owned, &event, cache, limits))
                .await
                .map_err(|e| ScriptFailure::Unavailable(e.to_string()))??;
        if matches!(script.kind, ScriptKind::Action(_)) {
            self.keep_cache(&script.name, cache);
        }
        Ok(outcome)
    }
}

/// The source a script is compiled from: an Action's CommonJS module inside a function of
/// `(exports, module, require)`, a Rule's function as an expression.
fn wrapped_source(script: &Script) -> String {
    match script.kind {
        ScriptKind::Action(_) => format!(
            "(function (exports, module, require) {{\n{}\n}})",
            script.code
        ),
        ScriptKind::Rule => format!("({}\n)", script.code),
    }
}

fn digest(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Compiles `source` as global code to QuickJS bytecode.
fn compile(ctx: &Ctx<'_>, source: &str) -> rquickjs::Result<Vec<u8>> {
    let raw = ctx.as_raw().as_ptr();
    // QuickJS wants the input NUL-terminated, its length without the NUL.
    let mut input = Vec::with_capacity(source.len() + 1);
    input.extend_from_slice(source.as_bytes());
    input.push(0);
    // SAFETY: `raw` is the live context of `ctx`; `input` outlives the call and ends with NUL;
    // the compiled function is freed after serialisation and the buffer with `js_free`.
    unsafe {
        let function = qjs::JS_Eval(
            raw,
            input.as_ptr().cast(),
            source.len() as _,
            c"script".as_ptr(),
            (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        let mut len = 0;
        let buffer =
            qjs::JS_WriteObject(raw, &mut len, function, qjs::JS_WRITE_OBJ_BYTECODE as i32);
        qjs::JS_FreeValue(raw, function);
        if buffer.is_null() {
            return Err(rquickjs::Error::Exception);
        }
        let bytes = std::slice::from_raw_parts(buffer, len as usize).to_vec();
        qjs::js_free(raw, buffer.cast());
        Ok(bytes)
    }
}

/// Runs bytecode made by [`compile`] and returns its completion value.
fn run_compiled<'js, T: FromJs<'js>>(ctx: &Ctx<'js>, bytecode: &[u8]) -> rquickjs::Result<T> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytes come from `compile` in this process (never from outside), so they are
    // valid bytecode of this QuickJS; `JS_EvalFunction` takes ownership of the function and
    // the result is owned by the returned `Value`.
    let value = unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        let result = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(result) {
            return Err(rquickjs::Error::Exception);
        }
        rquickjs::Value::from_raw(ctx.clone(), result)
    };
    T::from_js(ctx, value)
}

/// The harness's and the script's bytecode, compiled on first use.
fn bytecode_for(
    compiled: &Mutex<CompiledScripts>,
    ctx: &Ctx<'_>,
    script: &Script,
) -> rquickjs::Result<(Bytecode, Bytecode)> {
    let source = wrapped_source(script);
    let hash = digest(&source);
    let (harness, cached) = match compiled.lock() {
        Ok(c) => (
            c.harness.clone(),
            c.scripts
                .get(&script.name)
                .filter(|(h, _)| *h == hash)
                .map(|(_, b)| b.clone()),
        ),
        Err(_) => (None, None),
    };
    let harness = match harness {
        Some(h) => h,
        None => {
            let h = Arc::new(compile(ctx, HARNESS)?);
            if let Ok(mut c) = compiled.lock() {
                c.harness = Some(h.clone());
            }
            h
        }
    };
    let code = match cached {
        Some(code) => code,
        None => {
            let code = Arc::new(compile(ctx, &source)?);
            if let Ok(mut c) = compiled.lock() {
                c.scripts.insert(script.name.clone(), (hash, code.clone()));
            }
            code
        }
    };
    Ok((harness, code))
}

/// One execution, start to end, on the calling thread.
fn execute(
    compiled: &Mutex<CompiledScripts>,
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
        let (harness, code) = bytecode_for(compiled, &ctx, script)
            .catch(&ctx)
            .map_err(|e| failure(e, timed_out()))?;
        run_compiled::<()>(&ctx, &harness)
            .catch(&ctx)
            .map_err(|e| failure(e, timed_out()))?;
        let entry: Function = run_compiled(&ctx, &code)
            .catch(&ctx)
            .map_err(|e| failure(e, timed_out()))?;
        let promise: Promise = match &script.kind {
            ScriptKind::Action(trigger) => {
                let run: Function = ctx
                    .globals()
                    .get("__portcullisRunAction")
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                run.call((
                    entry,
                    trigger.as_str(),
                    trigger.handler(),
                    event_json.as_str(),
                    cache_json.as_str(),
                ))
                .catch(&ctx)
                .map_err(|e| failure(e, timed_out()))?
            }
            ScriptKind::Rule => {
                let run: Function = ctx
                    .globals()
                    .get("__portcullisRunRule")
                    .catch(&ctx)
                    .map_err(|e| failure(e, timed_out()))?;
                run.call((entry, event_json.as_str()))
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
