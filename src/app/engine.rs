//! The page's side of the Web Workers: a pool of one per core (the first started first, each
//! restarted if it dies or hangs), sent the models and the queued files, a file to each free
//! worker, and a file split in shares over every free worker when no other file waits (decoded by
//! the first, which relays the samples to the others over message channels); their answers
//! become state and library rows.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::share::Share;
use crate::worker_api::{BundleSource, FromWorker, StageMs, ToWorker};
use js_sys::{Array, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

use super::bundle_store::{bundle_files, forget_bundle};
use super::db::{self, js_error};
use super::in_flight;
use super::record::TrackRecord;
use super::state::{AppState, EngineStatus, Job, JobStatus, ModelSource, Picture};

/// The worker's loader (`web/worker_loader.js`, which reports a failed start as an error event).
const WORKER_URL: &str = "./worker_loader.js";
/// Crashes in a row while starting or loading models, after which no worker is restarted.
const MAX_FAILED_STARTS: u32 = 3;
/// Most workers started (each holds its own copy of the models).
const MAX_WORKERS: usize = 4;
/// Seconds without a word from the worker on a file after which it is deemed hung (an endless
/// loop): it reports progress after every couple of 3-second patches, well under a second apart.
/// `?stall=N` in the page's address sets another value (the browser tests use 3).
const STALL_SECONDS: f64 = 60.0;
/// How often the watchdog looks, in ms.
const WATCHDOG_MS: i32 = 1000;

/// One worker of the pool.
struct Engine {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    _on_tick: Closure<dyn FnMut()>,
    /// The watchdog's interval handle.
    watchdog: i32,
    ready: bool,
    /// The last model request it answered, and whether it loaded any model.
    answered: Option<(u32, bool)>,
    /// The job and share it is on.
    busy: Option<(u32, Share)>,
    /// When the worker last sent a message or was given a file (ms since the epoch).
    last_heard: f64,
    /// Seconds of silence on a file after which the worker is deemed hung.
    stall_limit: f64,
}

impl Engine {
    /// Free for a file: started, holding the current models, on nothing.
    fn free(&self, request: u32) -> bool {
        self.ready && self.answered == Some((request, true)) && self.busy.is_none()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.worker.terminate();
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.watchdog);
        }
    }
}

/// A number in the page's address (`?name=N`), if present and positive.
fn address_number(name: &str) -> Option<f64> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|query| web_sys::UrlSearchParams::new_with_str(&query).ok())
        .and_then(|params| params.get(name))
        .and_then(|value| value.parse::<f64>().ok())
        .filter(|&n| n > 0.0)
}

/// Workers in the pool: one per core up to [`MAX_WORKERS`] (`?workers=N` in the address sets it).
pub fn pool_size() -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    let wanted = address_number("workers").unwrap_or(cores);
    (wanted as usize).clamp(1, MAX_WORKERS)
}

#[derive(Default)]
struct Queue {
    files: HashMap<u32, File>,
    order: VecDeque<u32>,
    next_job: u32,
}

thread_local! {
    /// The pool, by slot (`None` once it failed for good).
    static ENGINES: RefCell<Vec<Option<Engine>>> = const { RefCell::new(Vec::new()) };
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
    static FAILED_STARTS: Cell<u32> = const { Cell::new(0) };
    /// The current model request's number (every worker is sent the same models).
    static REQUEST: Cell<u32> = const { Cell::new(0) };
    /// Whether the workers after the first have been started.
    static POOL_STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Posts `message` with `payload` beside it: byte arrays and message ports are transferred,
/// anything else (a `File`) is cloned, which for a file copies a reference, not its contents.
fn post(worker: &Worker, message: &ToWorker, payload: Vec<JsValue>) -> Result<(), String> {
    let value = message
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| format!("cannot build a message for the worker: {e}"))?;
    let transfer = Array::new();
    let list = Array::new();
    for item in payload {
        if let Some(bytes) = item.dyn_ref::<Uint8Array>() {
            transfer.push(&bytes.buffer());
        } else if item.is_instance_of::<web_sys::MessagePort>() {
            transfer.push(&item);
        }
        list.push(&item);
    }
    Reflect::set(&value, &"payload".into(), &list).map_err(|e| js_error("cannot build a message", e))?;
    worker.post_message_with_transfer(&value, &transfer).map_err(|e| js_error("the worker is unreachable", e))
}

/// Runs `f` on the engine in `slot`, if it is running.
fn with_engine<T>(slot: usize, f: impl FnOnce(&mut Engine) -> T) -> Option<T> {
    ENGINES.with(|e| e.borrow_mut().get_mut(slot).and_then(Option::as_mut).map(f))
}

/// The share of its file the worker in `slot` is on (0 when whole or idle).
fn share_of(slot: usize) -> u32 {
    with_engine(slot, |e| e.busy.map(|(_, s)| s.index)).flatten().unwrap_or(0)
}

/// Starts the pool with its first worker; the others start once it has loaded the models (two
/// workers compiling the wasm and preparing the models at once on two cores made the first
/// ready later: 1.2–1.8 s against 1.2 s).
pub fn start(state: AppState) {
    let size = pool_size();
    ENGINES.with(|e| e.borrow_mut().resize_with(size, || None));
    start_worker(state, 0);
}

/// Starts every worker of the pool not started yet (once the first one is ready).
fn start_the_rest(state: AppState) {
    if POOL_STARTED.with(|p| p.replace(true)) {
        return;
    }
    let size = ENGINES.with(|e| e.borrow().len());
    for slot in 1..size {
        start_worker(state, slot);
    }
}

/// Starts the worker in `slot` (or restarts it after a crash or a hang).
fn start_worker(state: AppState, slot: usize) {
    // Dropping the old engine terminates its worker and stops its watchdog.
    drop(ENGINES.with(|e| e.borrow_mut().get_mut(slot).and_then(Option::take)));
    refresh_status(state);
    let worker = match super::worker_module::start(WORKER_URL) {
        Ok(w) => w,
        Err(e) => return fail_pool(state, js_error("the analyser (Web Worker) cannot start", e)),
    };
    let on_message =
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| on_message(state, slot, event));
    let on_error =
        Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| on_crash(state, slot, event));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let on_tick = Closure::<dyn FnMut()>::new(move || check_stall(state, slot));
    let watchdog = web_sys::window()
        .and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(on_tick.as_ref().unchecked_ref(), WATCHDOG_MS).ok()
        })
        .unwrap_or(0);
    let engine = Engine {
        worker,
        _on_message: on_message,
        _on_error: on_error,
        _on_tick: on_tick,
        watchdog,
        ready: false,
        answered: None,
        busy: None,
        last_heard: js_sys::Date::now(),
        stall_limit: address_number("stall").unwrap_or(STALL_SECONDS),
    };
    ENGINES.with(|e| {
        if let Some(place) = e.borrow_mut().get_mut(slot) {
            *place = Some(engine);
        }
    });
}

/// The pool's status for the badge: ready as soon as one worker holds the current models (files
/// dropped meanwhile go to it; the others join as they load).
fn refresh_status(state: AppState) {
    if matches!(state.engine.get_untracked(), EngineStatus::Failed(_)) {
        return;
    }
    let request = REQUEST.with(Cell::get);
    let (status, ready) = ENGINES.with(|e| {
        let engines = e.borrow();
        let running: Vec<&Engine> = engines.iter().flatten().collect();
        let ready = running.iter().filter(|e| e.answered == Some((request, true))).count() as u32;
        let answered = running.iter().filter(|e| e.answered.map(|(r, _)| r) == Some(request)).count();
        let status = if ready > 0 {
            EngineStatus::Ready
        } else if !running.is_empty() && answered == running.len() {
            EngineStatus::NoModels
        } else if running.iter().any(|e| e.ready) {
            EngineStatus::LoadingModels
        } else {
            EngineStatus::Starting
        };
        (status, ready)
    });
    if state.engine.get_untracked() != status {
        state.engine.set(status);
    }
    if state.workers_ready.get_untracked() != ready {
        state.workers_ready.set(ready);
    }
}

/// The analyser is gone for good: every worker stops and every waiting file fails.
fn fail_pool(state: AppState, message: String) {
    let engines: Vec<Option<Engine>> = ENGINES.with(|e| e.borrow_mut().iter_mut().map(Option::take).collect());
    drop(engines);
    fail_waiting(state, &message);
    state.engine.set(EngineStatus::Failed(message));
}

/// The watchdog: a worker silent on a file for longer than the stall limit is stuck (an endless
/// loop raises no error event). That file fails, the worker restarts and the batch goes on.
fn check_stall(state: AppState, slot: usize) {
    let stalled = with_engine(slot, |engine| {
        let (job, _) = engine.busy?;
        let silent = (js_sys::Date::now() - engine.last_heard) / 1000.0;
        (silent > engine.stall_limit).then_some((job, silent))
    })
    .flatten();
    let Some((job, silent)) = stalled else { return };
    let message = format!(
        "the analyser stopped responding on this file (nothing for {silent:.0} s); it was restarted for the other files"
    );
    fail_job(state, job, message);
    start_worker(state, slot);
}

/// A worker died (a panic or an out-of-memory trap): the file it was on fails, the worker
/// restarts and the batch goes on.
fn on_crash(state: AppState, slot: usize, event: web_sys::Event) {
    event.prevent_default();
    let detail = event.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
    let busy = with_engine(slot, |e| e.busy).flatten();
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
            return fail_pool(state, format!("the analyser (Web Worker) cannot start: {detail}"));
        }
    }
    match busy {
        Some((job, _)) => {
            let message =
                format!("the analyser stopped on this file ({detail}); it was restarted for the other files");
            fail_job(state, job, message);
        }
        None => state.notice(format!("the analyser stopped ({detail}); restarting it")),
    }
    start_worker(state, slot);
}

fn on_message(state: AppState, slot: usize, event: MessageEvent) {
    with_engine(slot, |e| e.last_heard = js_sys::Date::now());
    let data = event.data();
    if super::worker_module::take(&data) {
        return;
    }
    let message = match serde_wasm_bindgen::from_value::<FromWorker>(data.clone()) {
        Ok(m) => m,
        Err(e) => return state.notice(format!("unreadable message from the analyser: {e}")),
    };
    match message {
        FromWorker::Ready => {
            with_engine(slot, |e| e.ready = true);
            send_models_to(state, slot);
        }
        FromWorker::ModelsLoaded { request, loaded, refused } => {
            if request != REQUEST.with(Cell::get) {
                return;
            }
            // Every worker loads the same models: the first answer tells the model list.
            let first = ENGINES.with(|e| e.borrow().iter().flatten().all(|e| e.answered.map(|(r, _)| r) != Some(request)));
            with_engine(slot, |e| e.answered = Some((request, !loaded.is_empty())));
            FAILED_STARTS.with(|f| f.set(0));
            if first {
                super::catalog::models_loaded(state, &loaded, &refused);
            }
            refresh_status(state);
            pump(state);
            start_the_rest(state);
        }
        FromWorker::Progress { job, fraction } => {
            if let Some(fraction) = in_flight::progress(job, share_of(slot), fraction) {
                state.jobs.update(|jobs| {
                    if let Some(j) = jobs.iter_mut().find(|j| j.id == job) {
                        j.progress = fraction;
                    }
                });
            }
        }
        FromWorker::Done { job, report, picture, stages } => {
            let pixels = Reflect::get(&data, &"payload".into())
                .ok()
                .and_then(|p| p.dyn_into::<Array>().ok())
                .and_then(|p| p.get(0).dyn_into::<Uint8Array>().ok())
                .map(|a| a.to_vec())
                .unwrap_or_default();
            match in_flight::share_done(job, share_of(slot), report, picture, pixels, stages) {
                Some(Ok((report, picture, stages))) => finish_job(state, job, report, picture, stages),
                Some(Err(message)) => fail_job(state, job, message),
                None => {}
            }
            idle(state, slot);
        }
        FromWorker::Failed { job, message } => {
            fail_job(state, job, message);
            idle(state, slot);
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
        in_flight::abandon(job);
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

/// Job `job` failed (on any of its shares): its row says why, once, and the workers on its
/// other shares stop relaying or waiting for its samples.
fn fail_job(state: AppState, job: u32, message: String) {
    if in_flight::abandon(job) {
        forget_file(job);
        set_status(state, job, JobStatus::Failed(message));
        let on_it: Vec<Worker> = ENGINES.with(|e| {
            e.borrow().iter().flatten().filter(|e| e.busy.is_some_and(|(j, _)| j == job)).map(|e| e.worker.clone()).collect()
        });
        for worker in on_it {
            let _ = post(&worker, &ToWorker::Abandon { job }, Vec::new());
        }
    }
}

fn forget_file(job: u32) -> Option<File> {
    QUEUE.with(|q| q.borrow_mut().files.remove(&job))
}

fn idle(state: AppState, slot: usize) {
    with_engine(slot, |e| e.busy = None);
    pump(state);
}

fn finish_job(state: AppState, job: u32, report: crate::report::TrackReport, picture: Picture, mut stages: Vec<StageMs>) {
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
    // The same file classified again replaces its earlier result (one row per file).
    let replaced = state.library.with_untracked(|l| record.replaces(l));
    for old in &replaced {
        super::playable::forget_audio(Some(old));
    }
    if let Some(file) = file {
        super::playable::keep(&id, file);
    }
    state.pictures.update(|p| {
        replaced.iter().for_each(|old| {
            p.remove(old);
        });
        p.insert(id.clone(), Arc::new(picture));
    });
    state.library.update(|l| {
        l.retain(|t| !replaced.contains(&t.id));
        l.insert(0, record.clone());
    });
    state.jobs.update(|jobs| {
        for j in jobs.iter_mut() {
            if j.id == job {
                j.track_id = Some(id.clone());
                j.stages = std::mem::take(&mut stages);
            } else if j.track_id.as_ref().is_some_and(|t| replaced.contains(t)) {
                j.track_id = Some(id.clone());
            }
        }
    });
    set_status(state, job, JobStatus::Done);
    let selected = state.selected.get_untracked();
    if selected.is_none() || selected.is_some_and(|s| replaced.contains(&s)) {
        state.selected.set(Some(id));
    }
    spawn_local(async move {
        match db::current() {
            Some(db) => {
                if let Err(e) = db.save_track(&record, &replaced).await {
                    state.notice(format!("{}: {e}", record.name));
                }
            }
            None => {
                state.notice(format!("{} was classified but cannot be kept: the library is unavailable", record.name))
            }
        }
    });
}

/// Sends the switched-on models to every worker (when the choice changes).
pub fn send_models(state: AppState) {
    REQUEST.with(|r| r.set(r.get() + 1));
    let slots = ENGINES.with(|e| e.borrow().len());
    for slot in 0..slots {
        send_models_to(state, slot);
    }
    refresh_status(state);
}

/// Sends the current request's models to the worker in `slot`, if it has started.
fn send_models_to(state: AppState, slot: usize) {
    let request = REQUEST.with(Cell::get);
    if request == 0 {
        // The model list is not loaded yet: `send_models` sends it to every started worker.
        return;
    }
    let worker = with_engine(slot, |e| e.ready.then(|| e.worker.clone())).flatten();
    let Some(worker) = worker else { return };
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
    let (backbones, bytes) = super::backbones::payload(&bundles);
    payload.extend(bytes.into_iter().map(JsValue::from));
    let message = ToWorker::LoadModels { request, bundles, backbones };
    if let Err(e) = post(&worker, &message, payload) {
        fail_pool(state, e);
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
            let size = file.size();
            let status = JobStatus::Queued;
            added.push(Job { id, name, size, status, progress: 0.0, workers: 0, track_id: None, stages: Vec::new() });
            q.files.insert(id, file);
            q.order.push_back(id);
        }
    });
    state.jobs.update(|jobs| jobs.extend(added));
    pump(state);
}

/// The next waiting file, and whether another waits after it.
fn next_file() -> Option<(u32, File, bool)> {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        while let Some(id) = q.order.pop_front() {
            if let Some(file) = q.files.get(&id).cloned() {
                let more = q.order.iter().any(|other| q.files.contains_key(other));
                return Some((id, file, more));
            }
        }
        None
    })
}

/// Gives waiting files to free workers: one file each while several wait, and the last one
/// split in shares over every worker still free.
fn pump(state: AppState) {
    if let EngineStatus::Failed(message) = state.engine.get_untracked() {
        fail_waiting(state, &message);
        return;
    }
    loop {
        let request = REQUEST.with(Cell::get);
        let free: Vec<usize> = ENGINES.with(|e| {
            let engines = e.borrow();
            (0..engines.len()).filter(|&s| engines[s].as_ref().is_some_and(|e| e.free(request))).collect()
        });
        if free.is_empty() {
            return;
        }
        let Some((job, file, more)) = next_file() else { return };
        let slots = if more { &free[..1] } else { &free[..] };
        let count = slots.len() as u32;
        in_flight::begin(job, count);
        state.jobs.update(|jobs| {
            if let Some(j) = jobs.iter_mut().find(|j| j.id == job) {
                j.status = JobStatus::Running;
                j.workers = count;
            }
        });
        // Decoded once: the first share's worker reads the file (once it has checked its size:
        // the page never holds its bytes) and relays its samples to each other share's worker.
        let channels = match (1..count).map(|_| web_sys::MessageChannel::new()).collect::<Result<Vec<_>, _>>() {
            Ok(channels) => channels,
            Err(e) => {
                fail_job(state, job, js_error("cannot connect the workers", e));
                continue;
            }
        };
        for (index, &slot) in slots.iter().enumerate() {
            let share = Share { index: index as u32, count };
            let worker = with_engine(slot, |e| {
                e.busy = Some((job, share));
                e.last_heard = js_sys::Date::now();
                e.worker.clone()
            });
            let Some(worker) = worker else { continue };
            let payload: Vec<JsValue> = match index {
                0 => std::iter::once(file.clone().into()).chain(channels.iter().map(|c| c.port1().into())).collect(),
                _ => vec![channels[index - 1].port2().into()],
            };
            let message = ToWorker::Analyze { job, name: file.name(), share };
            if let Err(message) = post(&worker, &message, payload) {
                // The shares not yet sent stay free (the ones sent are told to stop).
                fail_job(state, job, message);
                with_engine(slot, |e| e.busy = None);
                break;
            }
        }
    }
}

/// Cancels the batch: no further file goes to a worker and the rows still waiting say so.
/// The files being classified finish and are kept, like every file classified before them.
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
