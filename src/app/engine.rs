//! The page's side of the Web Worker: spawns it (and again if it dies), sends it the models
//! and the queued files one at a time, and turns its answers into state and library rows.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::worker_api::{BundleSource, FromWorker, ToWorker};
use js_sys::{Array, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

use super::db::{self, js_error};
use super::record::TrackRecord;
use super::state::{AppState, EngineStatus, Job, JobStatus, ModelSource, Picture};

/// The worker's loader (`web/worker_loader.js`, which reports a failed start as an error event).
const WORKER_URL: &str = "./worker_loader.js";
/// Crashes in a row while starting or loading models, after which the worker is not restarted.
const MAX_FAILED_STARTS: u32 = 3;
/// Seconds without a word from the worker on a file after which it is deemed hung (an endless
/// loop): it reports progress after every couple of 3-second patches, well under a second apart.
/// `?stall=N` in the page's address sets another value (the browser tests use 3).
const STALL_SECONDS: f64 = 60.0;
/// How often the watchdog looks, in ms.
const WATCHDOG_MS: i32 = 1000;

struct Engine {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    _on_tick: Closure<dyn FnMut()>,
    /// The watchdog's interval handle.
    watchdog: i32,
    ready: bool,
    models_ready: bool,
    busy: Option<u32>,
    /// When the worker last sent a message or was given a file (ms since the epoch).
    last_heard: f64,
    /// Seconds of silence on a file after which the worker is deemed hung.
    stall_limit: f64,
    request: u32,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.worker.terminate();
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.watchdog);
        }
    }
}

/// The stall limit in seconds: `?stall=N` in the page's address, else [`STALL_SECONDS`].
fn stall_seconds() -> f64 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|query| web_sys::UrlSearchParams::new_with_str(&query).ok())
        .and_then(|params| params.get("stall"))
        .and_then(|value| value.parse::<f64>().ok())
        .filter(|&seconds| seconds > 0.0)
        .unwrap_or(STALL_SECONDS)
}

#[derive(Default)]
struct Queue {
    files: HashMap<u32, File>,
    order: VecDeque<u32>,
    next_job: u32,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
    static FAILED_STARTS: Cell<u32> = const { Cell::new(0) };
    /// Sidecar text and ONNX bytes of every known model, by name.
    static BUNDLES: RefCell<HashMap<String, (String, Vec<u8>)>> = RefCell::new(HashMap::new());
    /// This session's files by track id, with their object URL once the player asked for one.
    static PLAYABLE: RefCell<HashMap<String, (File, Option<String>)>> = RefCell::new(HashMap::new());
}

/// An object URL that plays track `id`'s file (`None` for a track of an earlier session). It is
/// made when first asked for, not when the file is classified: `URL.createObjectURL` of a file on
/// disk blocks the page's thread (tens of ms on a loaded machine), too long to do for every file
/// of a batch.
pub fn audio_url(id: &str) -> Option<String> {
    PLAYABLE.with(|p| {
        let mut playable = p.borrow_mut();
        let (file, url) = playable.get_mut(id)?;
        if url.is_none() {
            *url = web_sys::Url::create_object_url_with_blob(file).ok();
        }
        url.clone()
    })
}

/// Forgets the files (and revokes the object URLs) of deleted tracks: one, or (`None`) all.
pub fn forget_audio(id: Option<&str>) {
    let gone: Vec<(File, Option<String>)> = PLAYABLE.with(|p| {
        let mut playable = p.borrow_mut();
        match id {
            Some(id) => playable.remove(id).into_iter().collect(),
            None => playable.drain().map(|(_, v)| v).collect(),
        }
    });
    for url in gone.into_iter().filter_map(|(_, url)| url) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// Keeps a model's files so they can be sent to (re)started workers.
pub fn remember_bundle(name: &str, sidecar: String, onnx: Vec<u8>) {
    BUNDLES.with(|b| b.borrow_mut().insert(name.to_string(), (sidecar, onnx)));
}

/// Forgets a model's files.
pub fn forget_bundle(name: &str) {
    BUNDLES.with(|b| b.borrow_mut().remove(name));
}

/// A model's files, if known.
pub fn bundle_files(name: &str) -> Option<(String, Vec<u8>)> {
    BUNDLES.with(|b| b.borrow().get(name).cloned())
}

/// Posts `message` with `payload` beside it: byte arrays are transferred, anything else (a
/// `File`) is cloned, which for a file copies a reference, not its contents.
fn post(worker: &Worker, message: &ToWorker, payload: Vec<JsValue>) -> Result<(), String> {
    let value = message
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| format!("cannot build a message for the worker: {e}"))?;
    let transfer = Array::new();
    let list = Array::new();
    for item in payload {
        if let Some(bytes) = item.dyn_ref::<Uint8Array>() {
            transfer.push(&bytes.buffer());
        }
        list.push(&item);
    }
    Reflect::set(&value, &"payload".into(), &list).map_err(|e| js_error("cannot build a message", e))?;
    worker.post_message_with_transfer(&value, &transfer).map_err(|e| js_error("the worker is unreachable", e))
}

/// Starts the worker (or restarts it after a crash).
pub fn start(state: AppState) {
    // Dropping the old engine terminates its worker and stops its watchdog.
    drop(ENGINE.with(|e| e.borrow_mut().take()));
    state.engine.set(EngineStatus::Starting);
    let worker = match Worker::new(WORKER_URL) {
        Ok(w) => w,
        Err(e) => {
            state.engine.set(EngineStatus::Failed(js_error("the analyser (Web Worker) cannot start", e)));
            return;
        }
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| on_message(state, event));
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| on_crash(state, event));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let on_tick = Closure::<dyn FnMut()>::new(move || check_stall(state));
    let watchdog = web_sys::window()
        .and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(on_tick.as_ref().unchecked_ref(), WATCHDOG_MS).ok()
        })
        .unwrap_or(0);
    ENGINE.with(|e| {
        *e.borrow_mut() = Some(Engine {
            worker,
            _on_message: on_message,
            _on_error: on_error,
            _on_tick: on_tick,
            watchdog,
            ready: false,
            models_ready: false,
            busy: None,
            last_heard: js_sys::Date::now(),
            stall_limit: stall_seconds(),
            request: 0,
        })
    });
}

/// The watchdog: a worker silent on a file for longer than the stall limit is stuck (an endless
/// loop raises no error event). That file fails, the worker restarts and the batch goes on.
fn check_stall(state: AppState) {
    let stalled = ENGINE.with(|e| {
        let engine = e.borrow();
        let engine = engine.as_ref()?;
        let job = engine.busy?;
        let silent = (js_sys::Date::now() - engine.last_heard) / 1000.0;
        (silent > engine.stall_limit).then_some((job, silent))
    });
    let Some((job, silent)) = stalled else { return };
    forget_file(job);
    let message = format!(
        "the analyser stopped responding on this file (nothing for {silent:.0} s); it was restarted for the other files"
    );
    set_status(state, job, JobStatus::Failed(message));
    start(state);
}

/// The worker died (a panic or an out-of-memory trap): the file it was on fails, the worker
/// restarts and the batch goes on.
fn on_crash(state: AppState, event: web_sys::Event) {
    event.prevent_default();
    let detail = event.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
    let busy = ENGINE.with(|e| e.borrow().as_ref().and_then(|e| e.busy));
    if busy.is_none() {
        // Not a file's fault: while starting or loading models. A model just added by the user
        // is the likely cause.
        let mut suspects = Vec::new();
        state.models.update(|m| {
            suspects = m.iter().filter(|e| e.pending).map(|e| e.name.clone()).collect();
            m.retain(|e| !e.pending);
        });
        for name in suspects {
            forget_bundle(&name);
            state.notice(format!("your model \"{name}\" stopped the analyser ({detail}); it was not loaded"));
        }
        let failed = FAILED_STARTS.with(|f| {
            f.set(f.get() + 1);
            f.get()
        });
        if failed >= MAX_FAILED_STARTS {
            drop(ENGINE.with(|e| e.borrow_mut().take()));
            let message = format!("the analyser (Web Worker) cannot start: {detail}");
            fail_waiting(state, &message);
            state.engine.set(EngineStatus::Failed(message));
            return;
        }
    }
    let message = format!("the analyser stopped on this file ({detail}); it was restarted for the other files");
    match busy {
        Some(job) => {
            forget_file(job);
            set_status(state, job, JobStatus::Failed(message));
        }
        None => state.notice(format!("the analyser stopped ({detail}); restarting it")),
    }
    start(state);
}

fn on_message(state: AppState, event: MessageEvent) {
    ENGINE.with(|e| e.borrow_mut().as_mut().map(|e| e.last_heard = js_sys::Date::now()));
    let data = event.data();
    let message = match serde_wasm_bindgen::from_value::<FromWorker>(data.clone()) {
        Ok(m) => m,
        Err(e) => return state.notice(format!("unreadable message from the analyser: {e}")),
    };
    match message {
        FromWorker::Ready => {
            ENGINE.with(|e| e.borrow_mut().as_mut().map(|e| e.ready = true));
            send_models(state);
        }
        FromWorker::ModelsLoaded { request, loaded, refused } => {
            let current = ENGINE.with(|e| e.borrow().as_ref().map(|e| e.request));
            if current != Some(request) {
                return;
            }
            ENGINE.with(|e| e.borrow_mut().as_mut().map(|e| e.models_ready = !loaded.is_empty()));
            FAILED_STARTS.with(|f| f.set(0));
            state.engine.set(if loaded.is_empty() { EngineStatus::NoModels } else { EngineStatus::Ready });
            super::catalog::models_loaded(state, &loaded, &refused);
            pump(state);
        }
        FromWorker::Progress { job, fraction } => {
            state.jobs.update(|jobs| {
                if let Some(j) = jobs.iter_mut().find(|j| j.id == job) {
                    j.progress = fraction;
                }
            });
        }
        FromWorker::Done { job, report, picture } => {
            let pixels = Reflect::get(&data, &"payload".into())
                .ok()
                .and_then(|p| p.dyn_into::<Array>().ok())
                .and_then(|p| p.get(0).dyn_into::<Uint8Array>().ok())
                .map(|a| a.to_vec())
                .unwrap_or_default();
            finish_job(
                state,
                job,
                report,
                Picture {
                    rows: picture.rows,
                    columns: picture.columns,
                    columns_per_second: picture.columns_per_second,
                    pixels,
                },
            );
        }
        FromWorker::Failed { job, message } => {
            forget_file(job);
            set_status(state, job, JobStatus::Failed(message));
            idle(state);
        }
    }
}

/// Fails every file still waiting (the analyser is gone for good).
fn fail_waiting(state: AppState, message: &str) {
    let waiting: Vec<u32> = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.order.clear();
        q.files.drain().map(|(id, _)| id).collect()
    });
    for job in waiting {
        set_status(state, job, JobStatus::Failed(message.to_string()));
    }
}

fn set_status(state: AppState, job: u32, status: JobStatus) {
    state.jobs.update(|jobs| {
        if let Some(j) = jobs.iter_mut().find(|j| j.id == job) {
            if status == JobStatus::Done {
                j.progress = 1.0;
            }
            j.status = status;
        }
    });
}

fn forget_file(job: u32) -> Option<File> {
    QUEUE.with(|q| q.borrow_mut().files.remove(&job))
}

fn idle(state: AppState) {
    ENGINE.with(|e| e.borrow_mut().as_mut().map(|e| e.busy = None));
    pump(state);
}

fn finish_job(state: AppState, job: u32, report: crate::report::TrackReport, picture: Picture) {
    let file = forget_file(job);
    let known = state.jobs.with_untracked(|jobs| jobs.iter().find(|j| j.id == job).map(|j| (j.name.clone(), j.size)));
    let (name, size) = known.unwrap_or_else(|| (format!("file {job}"), file.as_ref().map_or(0.0, |f| f.size())));
    // (task, model, multi-label) of each model in use.
    let in_use: Vec<(String, String, bool)> = state.models.with_untracked(|m| {
        m.iter()
            .filter(|e| e.enabled && e.error.is_none())
            .filter_map(|e| Some((e.task.clone()?, e.name.clone(), e.multi_label)))
            .collect()
    });
    let multi_label = in_use
        .iter()
        .filter(|(task, _, tags)| *tags && report.tasks.contains_key(task))
        .map(|(t, _, _)| t.clone())
        .collect();
    let record = TrackRecord {
        id: format!("{:.0}-{job}", js_sys::Date::now()),
        format: name.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default(),
        size,
        name,
        added_ms: js_sys::Date::now(),
        report,
        models: in_use.into_iter().map(|(task, model, _)| (task, model)).collect(),
        multi_label,
    };
    let id = record.id.clone();
    if let Some(file) = file {
        PLAYABLE.with(|p| p.borrow_mut().insert(id.clone(), (file, None)));
    }
    state.pictures.update(|p| {
        p.insert(id.clone(), Arc::new(picture));
    });
    state.library.update(|l| l.insert(0, record.clone()));
    state.jobs.update(|jobs| {
        if let Some(j) = jobs.iter_mut().find(|j| j.id == job) {
            j.track_id = Some(id.clone());
        }
    });
    set_status(state, job, JobStatus::Done);
    if state.selected.get_untracked().is_none() {
        state.selected.set(Some(id));
    }
    spawn_local(async move {
        match db::current() {
            Some(db) => {
                if let Err(e) = db.save_track(&record).await {
                    state.notice(format!("{}: {e}", record.name));
                }
            }
            None => {
                state.notice(format!("{} was classified but cannot be kept: the library is unavailable", record.name))
            }
        }
    });
    idle(state);
}

/// Sends the switched-on models to the worker (after a start, or when the choice changes).
pub fn send_models(state: AppState) {
    let entries = state.models.get_untracked();
    // The user's own models first: when one does a task a shipped model also does, it wins.
    let mut chosen: Vec<_> = entries.iter().filter(|m| m.enabled).collect();
    chosen.sort_by_key(|m| m.source != ModelSource::Own);
    let mut bundles = Vec::new();
    let mut payload = Vec::new();
    for entry in chosen {
        if let Some((sidecar, onnx)) = bundle_files(&entry.name) {
            bundles.push(BundleSource { name: entry.name.clone(), sidecar });
            payload.push(Uint8Array::from(onnx.as_slice()).into());
        }
    }
    let sent = ENGINE.with(|e| {
        let mut engine = e.borrow_mut();
        let engine = engine.as_mut().filter(|e| e.ready)?;
        engine.request += 1;
        engine.models_ready = false;
        let (backbones, bytes) = super::backbones::payload(&bundles);
        payload.extend(bytes.into_iter().map(JsValue::from));
        let message = ToWorker::LoadModels { request: engine.request, bundles, backbones };
        Some(post(&engine.worker, &message, payload))
    });
    match sent {
        Some(Ok(())) => state.engine.set(EngineStatus::LoadingModels),
        Some(Err(e)) => state.engine.set(EngineStatus::Failed(e)),
        None => {}
    }
}

/// Adds files to the batch.
pub fn enqueue(state: AppState, files: Vec<(String, File)>) {
    let mut added = Vec::new();
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        for (name, file) in files {
            q.next_job += 1;
            let id = q.next_job;
            added.push(Job { id, name, size: file.size(), status: JobStatus::Queued, progress: 0.0, track_id: None });
            q.files.insert(id, file);
            q.order.push_back(id);
        }
    });
    state.jobs.update(|jobs| jobs.extend(added));
    pump(state);
}

/// Sends the next queued file when the worker is free.
fn pump(state: AppState) {
    if let EngineStatus::Failed(message) = state.engine.get_untracked() {
        fail_waiting(state, &message);
        return;
    }
    let next = ENGINE.with(|e| {
        let mut engine = e.borrow_mut();
        let engine = engine.as_mut().filter(|e| e.ready && e.models_ready && e.busy.is_none())?;
        let job = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            while let Some(id) = q.order.pop_front() {
                if let Some(file) = q.files.get(&id) {
                    return Some((id, file.clone()));
                }
            }
            None
        })?;
        engine.busy = Some(job.0);
        engine.last_heard = js_sys::Date::now();
        Some((job, engine.worker.clone()))
    });
    let Some(((job, file), worker)) = next else { return };
    set_status(state, job, JobStatus::Running);
    // The worker reads the file, once it has checked its size: the page never holds its bytes.
    if let Err(message) = post(&worker, &ToWorker::Analyze { job, name: file.name() }, vec![file.into()]) {
        forget_file(job);
        set_status(state, job, JobStatus::Failed(message));
        idle(state);
    }
}

/// Cancels the batch: no further file goes to the worker and the rows still waiting say so.
/// The file being classified finishes and is kept, like every file classified before it.
pub fn cancel(state: AppState) {
    let waiting: Vec<u32> = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let waiting: Vec<u32> = q.order.drain(..).collect();
        for id in &waiting {
            q.files.remove(id);
        }
        waiting
    });
    state.jobs.update(|jobs| {
        for job in jobs.iter_mut().filter(|j| waiting.contains(&j.id)) {
            job.status = JobStatus::Cancelled;
        }
    });
}
