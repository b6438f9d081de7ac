//! The workers' compiled wasm, compiled once per page: the first worker compiles it and hands the
//! `WebAssembly.Module` to the page (`web/worker_loader.js`), which starts every later worker
//! (the rest of the pool, a restart after a crash) from it, so that they skip compiling 8 MB of
//! wasm on cores the first one is already using.

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;
use web_sys::{Worker, WorkerOptions};

/// The kind of the message that carries the compiled module (both ways).
const KIND: &str = "module";
/// The name of a worker that waits for the module instead of compiling the wasm itself.
const SHARED: &str = "shared";

thread_local! {
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Keeps the compiled module if `data` (a message from a worker) carries it; whether it did.
pub fn take(data: &JsValue) -> bool {
    let is_module = Reflect::get(data, &"kind".into()).ok().and_then(|k| k.as_string()).is_some_and(|k| k == KIND);
    if is_module && let Ok(module) = Reflect::get(data, &KIND.into()) {
        MODULE.with(|m| {
            m.borrow_mut().get_or_insert(module);
        });
    }
    is_module
}

/// Starts a worker from `url`: from the compiled module once a worker has handed it over, else
/// compiling the wasm itself.
pub fn start(url: &str) -> Result<Worker, JsValue> {
    let Some(module) = MODULE.with(|m| m.borrow().clone()) else { return Worker::new(url) };
    let options = WorkerOptions::new();
    options.set_name(SHARED);
    let worker = Worker::new_with_options(url, &options)?;
    let message = Object::new();
    Reflect::set(&message, &"kind".into(), &KIND.into())?;
    Reflect::set(&message, &KIND.into(), &module)?;
    worker.post_message(&message)?;
    Ok(worker)
}
