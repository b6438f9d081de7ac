//! The browser app's Web Worker (built by trunk as a second wasm binary): loads the model
//! bundles and decodes, analyses and classifies dropped files off the page's thread.
//! Messages are `musicat::worker_api`. On native targets this binary only explains itself.

#[cfg(target_arch = "wasm32")]
mod file;
#[cfg(target_arch = "wasm32")]
mod job;
#[cfg(any(target_arch = "wasm32", test))]
mod picture;
#[cfg(target_arch = "wasm32")]
mod relay;

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use std::time::Duration;

    use js_sys::{Array, Reflect, Uint8Array};
    use musicat::analyze::SegmentChooser;
    use musicat::model::backbone::BackboneCache;
    use musicat::model::runner::Activation;
    use musicat::share::{Assigned, Dispatch, Share};
    use musicat::worker_api::{BundleSource, FromWorker, ModelSummary, PictureShape, ToWorker};
    use musicat::{AudioStream, ModelBundle, Models};
    use serde::Serialize;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

    use super::job::{Job, Outcome, Packet, timed, waited};
    use super::relay::{self, BLOCK_SAMPLES, Link, RelayMessage};

    thread_local! {
        /// Shared with the jobs in flight, which keep the models they started with.
        static MODELS: RefCell<Option<Rc<Models>>> = const { RefCell::new(None) };
        /// Backbones loaded so far: heads naming one share it, across loads of the models too.
        static BACKBONES: RefCell<BackboneCache> = RefCell::new(BackboneCache::default());
    }

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    /// Tells the page job `job` is `fraction` done.
    pub fn post_progress(job: u32, fraction: f64) {
        post(&FromWorker::Progress { job, fraction }, Vec::new());
    }

    /// Posts a message, with `payload` attached and transferred.
    fn post(message: &FromWorker, payload: Vec<Uint8Array>) {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let Ok(value) = message.serialize(&serializer) else {
            web_sys::console::error_1(&"musicat worker: cannot serialise a message".into());
            return;
        };
        let transfer = Array::new();
        let bytes = Array::new();
        for array in payload {
            transfer.push(&array.buffer());
            bytes.push(&array);
        }
        let _ = Reflect::set(&value, &"payload".into(), &bytes);
        if let Err(e) = scope().post_message_with_transfer(&value, &transfer) {
            web_sys::console::error_2(&"musicat worker: postMessage failed".into(), &e);
        }
    }

    /// The `i`th byte array of a message's payload.
    fn payload(data: &JsValue, i: u32) -> Option<Vec<u8>> {
        let list = Reflect::get(data, &"payload".into()).ok()?.dyn_into::<Array>().ok()?;
        let item = list.get(i);
        let array = if item.is_instance_of::<js_sys::ArrayBuffer>() {
            Uint8Array::new(&item)
        } else {
            item.dyn_into::<Uint8Array>().ok()?
        };
        Some(array.to_vec())
    }

    /// The bytes of the backbone `file`, sent as `backbones[j]` after the `bundles` ONNX files.
    fn backbone_bytes(data: &JsValue, bundles: usize, backbones: &[String], file: &str) -> Result<Vec<u8>, String> {
        let missing = || {
            format!(
                "the app has no backbone `{file}` (a model on a backbone can only use one shipped in its models folder)"
            )
        };
        let j = backbones.iter().position(|b| b == file).ok_or_else(missing)?;
        payload(data, (bundles + j) as u32).ok_or_else(missing)
    }

    fn load_models(data: &JsValue, request: u32, bundles: Vec<BundleSource>, backbones: &[String]) {
        let count = bundles.len();
        let mut loaded = Vec::new();
        let mut summaries = Vec::new();
        let mut refused = Vec::new();
        for (i, source) in bundles.into_iter().enumerate() {
            let Some(onnx) = payload(data, i as u32) else {
                refused.push((source.name, "its ONNX file did not arrive".to_string()));
                continue;
            };
            let bundle = BACKBONES.with(|cache| {
                ModelBundle::from_parts(&source.name, &onnx, &source.sidecar, |file, sidecar| {
                    cache
                        .borrow_mut()
                        .get_or_load(file, &sidecar.features, || backbone_bytes(data, count, backbones, file))
                })
            });
            match bundle {
                Ok(bundle) if loaded.iter().any(|b: &ModelBundle| b.task() == bundle.task()) => {
                    refused.push((source.name, format!("another model already does the task \"{}\"", bundle.task())))
                }
                Ok(bundle) => {
                    let trained_on = match &bundle.sidecar.trained_on {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    summaries.push(ModelSummary {
                        name: source.name,
                        task: bundle.task().to_string(),
                        labels: bundle.sidecar.labels.clone(),
                        trained_on,
                        multi_label: bundle.sidecar.activation == Activation::Sigmoid,
                    });
                    loaded.push(bundle);
                }
                Err(e) => refused.push((source.name, e.to_string())),
            }
        }
        let models = (!loaded.is_empty()).then(|| Rc::new(Models::new(loaded)));
        MODELS.with(|m| *m.borrow_mut() = models);
        summaries.sort_by(|a, b| a.task.cmp(&b.task));
        post(&FromWorker::ModelsLoaded { request, loaded: summaries, refused }, Vec::new());
    }

    /// The models loaded last.
    fn models() -> Result<Rc<Models>, String> {
        MODELS.with(|m| m.borrow().clone()).ok_or_else(|| "no model is loaded: pick one in Models".to_string())
    }

    /// Blocks a follower may have waiting before the leader turns to its own share.
    const AHEAD_BLOCKS: u32 = 6;
    /// Samples the leader may hold decoded ahead of its own analysis.
    const MAX_QUEUED_SAMPLES: usize = 16 * BLOCK_SAMPLES;

    /// The `i`th item of a message's payload as a `MessagePort`.
    fn port(data: &JsValue, i: u32) -> Option<MessagePort> {
        let list = Reflect::get(data, &"payload".into()).ok()?.dyn_into::<Array>().ok()?;
        list.get(i).dyn_into::<MessagePort>().ok()
    }

    /// Reads the file of job `job` (`payload[0]`, checked against the size limit first), decodes
    /// it, relays its samples to the other shares' `links` and classifies its own share.
    async fn decode_and_analyze(data: JsValue, job: u32, name: String, mut links: Vec<Link>) {
        let item = Reflect::get(&data, &"payload".into())
            .ok()
            .and_then(|p| p.dyn_into::<Array>().ok())
            .map(|p| p.get(0))
            .unwrap_or(JsValue::UNDEFINED);
        let outcome = match super::file::read(item).await {
            Ok(bytes) => lead(job, &name, bytes, &mut links).await,
            Err(message) => Err(message),
        };
        if let Err(message) = &outcome {
            for link in &mut links {
                let _ = link.send(&RelayMessage::Failed { message: message.clone() }, None);
            }
        }
        answer(job, outcome);
    }

    async fn lead(job: u32, name: &str, bytes: Vec<u8>, links: &mut [Link]) -> Result<Outcome, String> {
        let models = models()?;
        let extension = name.rsplit_once('.').map(|(_, e)| e);
        let mut stream = AudioStream::open_bytes(bytes, extension).map_err(|e| e.to_string())?;
        let (rate, announced_s) = (stream.sample_rate(), stream.announced_seconds());
        if links.is_empty() {
            let mut work = Job::new(job, &models, None, true);
            work.start(rate)?;
            loop {
                let chunk = timed(&mut work.decode, || stream.next_packet()).map_err(|e| e.to_string())?;
                let Some(chunk) = chunk else { break };
                work.push(chunk)?;
                work.progress(stream.decoded_seconds(), announced_s);
            }
            return work.finish(stream.decoded_seconds());
        }
        let dispatch = Rc::new(RefCell::new(Dispatch::new(links.len(), Vec::new())));
        let chooser = {
            let dispatch = Rc::clone(&dispatch);
            Box::new(move |g: usize, k: usize| dispatch.borrow().leader_takes(g, k)) as SegmentChooser<'_>
        };
        let mut work = Job::new(job, &models, Some(chooser), true);
        *dispatch.borrow_mut() = Dispatch::new(links.len(), work.analyzer.segment_hops_s());
        work.start(rate)?;
        for link in links.iter_mut() {
            link.send(&RelayMessage::Start { announced_s }, None)?;
        }
        // Decoded packets, resampled, oldest first; the first `relayed` of them have been relayed
        // (and their segments decided), so the leader may analyse them. Used packets are reused.
        let mut queue: VecDeque<Packet> = VecDeque::new();
        let mut spare: Vec<Packet> = Vec::new();
        let (mut relayed, mut queued_samples, mut analysed_samples, mut caught_up) = (0, 0, 0, 0);
        // The block being gathered: per feature configuration, its resampled samples; and the
        // decoded samples behind them.
        let mut block: Vec<Vec<f32>> = Vec::new();
        let mut block_samples = 0;
        let mut ended = false;
        loop {
            // Feed the followers first: decode while one of them has little waiting.
            let hungry = links.iter().any(|l| l.backlog() < AHEAD_BLOCKS);
            if !ended && (relayed == 0 || hungry) && queued_samples < MAX_QUEUED_SAMPLES {
                let chunk = timed(&mut work.decode, || stream.next_packet()).map_err(|e| e.to_string())?;
                let mut packet = spare.pop().unwrap_or_default();
                match chunk {
                    Some(chunk) => {
                        packet.fill(chunk);
                        work.analyzer.resample(&packet.mono, &mut packet.resampled);
                    }
                    None => {
                        ended = true;
                        packet.flushed();
                        work.analyzer.flush_resamplers(&mut packet.resampled);
                    }
                }
                block.resize_with(packet.resampled.len(), Vec::new);
                block.iter_mut().zip(&packet.resampled).for_each(|(b, r)| b.extend_from_slice(r));
                block_samples += packet.mono.len();
                queued_samples += packet.mono.len();
                queue.push_back(packet);
                let decoded_s = stream.decoded_seconds();
                if block_samples >= BLOCK_SAMPLES || ended {
                    dispatch.borrow_mut().decide_until(decoded_s);
                    relay(links, &block, decoded_s, &dispatch, &mut work.waiting).await?;
                    dispatch.borrow_mut().balance(work.costs(links));
                    block.iter_mut().for_each(Vec::clear);
                    block_samples = 0;
                    relayed = queue.len();
                }
                if ended {
                    // Every packet's samples are relayed now (a block is relayed with its last packet).
                    relayed = queue.len();
                    let assigned = dispatch.borrow_mut().take_assigned();
                    for link in links.iter_mut() {
                        link.send(&RelayMessage::End { decoded_s, assigned: assigned.clone() }, None)?;
                    }
                }
                continue;
            }
            if relayed == 0 {
                if ended {
                    break;
                }
                // Nothing relayed left to analyse and the followers are fed: hear from them.
                hear_from(links, &mut work.waiting).await?;
                continue;
            }
            let Some(packet) = queue.pop_front() else { break };
            relayed -= 1;
            queued_samples -= packet.mono.len();
            analysed_samples += packet.mono.len();
            work.push_resampled(&packet.resampled, packet.chunk())?;
            spare.push(packet);
            work.progress(analysed_samples as f64 / rate as f64, announced_s);
            if analysed_samples - caught_up >= HEAR_EVERY_BLOCKS * BLOCK_SAMPLES {
                caught_up = analysed_samples;
                hear_from(links, &mut work.waiting).await?;
            }
        }
        work.finish(stream.decoded_seconds())
    }

    /// Sends a block of samples to every follower with the segments given to them meanwhile,
    /// takes note of how far behind each is, and waits while one is much too far behind.
    async fn relay(
        links: &mut [Link],
        block: &[Vec<f32>],
        decoded_s: f64,
        dispatch: &RefCell<Dispatch>,
        waiting: &mut Duration,
    ) -> Result<(), String> {
        let assigned = dispatch.borrow_mut().take_assigned();
        for link in links.iter_mut() {
            link.send(&RelayMessage::Samples { decoded_s, assigned: assigned.clone() }, Some(block))?;
        }
        if links.iter().any(|l| l.sent() % HEAR_EVERY_BLOCKS as u32 == 0) {
            hear_from(links, waiting).await?;
        }
        waited(waiting, async {
            for link in links.iter_mut() {
                link.wait_for_room().await?;
            }
            Ok(())
        })
        .await
    }

    /// Blocks relayed, or analysed by the first worker, between two looks at the followers'
    /// acknowledgements (each look costs a round trip through the browser's event loop).
    const HEAR_EVERY_BLOCKS: usize = 4;

    /// Lets the followers' acknowledgements in (the time it takes counts as waiting).
    async fn hear_from(links: &mut [Link], waiting: &mut Duration) -> Result<(), String> {
        waited(waiting, relay::yield_to_events()).await;
        links.iter_mut().try_for_each(Link::catch_up)
    }

    /// Classifies share `share` of job `job` from the samples another worker decodes and relays.
    async fn follow(job: u32, share: Share, mut link: Link) {
        let outcome = receive(job, share, &mut link).await;
        answer(job, outcome);
    }

    async fn receive(job: u32, share: Share, link: &mut Link) -> Result<Outcome, String> {
        let models = models()?;
        let mine = Rc::new(RefCell::new(Assigned::default()));
        let chooser = {
            let mine = Rc::clone(&mine);
            Box::new(move |g: usize, k: usize| mine.borrow().includes(g, k)) as SegmentChooser<'_>
        };
        let mut work = Job::new(job, &models, Some(chooser), false);
        let mut announced = None;
        let mut samples: Vec<Vec<f32>> = Vec::new();
        loop {
            let message = waited(&mut work.waiting, link.next(&mut samples)).await.ok_or_else(relay::abandoned)??;
            match message {
                RelayMessage::Start { announced_s } => {
                    work.start_resampled()?;
                    announced = announced_s;
                }
                RelayMessage::Samples { decoded_s, assigned } => {
                    mine.borrow_mut().add(share.index, &assigned);
                    work.push_resampled(&samples, None)?;
                    let taken = RelayMessage::Taken { inference_ms: work.segments_ms(), classified: work.classified };
                    link.send(&taken, None)?;
                    work.progress(decoded_s, announced);
                }
                RelayMessage::End { decoded_s, assigned } => {
                    mine.borrow_mut().add(share.index, &assigned);
                    return work.finish(decoded_s);
                }
                RelayMessage::Failed { message } => return Err(message),
                RelayMessage::Taken { .. } => {}
            }
        }
    }

    /// Ends job `job` on this worker with its one answer to the page.
    fn answer(job: u32, outcome: Result<Outcome, String>) {
        match outcome {
            Ok((report, picture, stages)) => {
                let shape = PictureShape {
                    rows: picture.rows() as u32,
                    columns: picture.columns() as u32,
                    columns_per_second: picture.columns_per_second(),
                };
                let pixels = Uint8Array::from(picture.to_row_major().as_slice());
                post(&FromWorker::Done { job, report, picture: shape, stages }, vec![pixels]);
            }
            Err(message) => post(&FromWorker::Failed { job, message }, Vec::new()),
        }
    }

    /// Starts job `job`: share 0 (or the whole file) reads and decodes the file, any other share
    /// listens on its port. Ports are opened now, before any other message is handled, so that
    /// an abandon finds them.
    fn start_job(data: JsValue, job: u32, name: String, share: Share) {
        let ports = |range: std::ops::Range<u32>| range.map(|i| port(&data, i)).collect::<Option<Vec<_>>>();
        if share.index == 0 {
            match ports(1..share.count.max(1)) {
                Some(ports) => {
                    let links = ports.into_iter().map(|p| Link::open(job, p)).collect();
                    wasm_bindgen_futures::spawn_local(decode_and_analyze(data, job, name, links))
                }
                None => answer(job, Err("the other workers' ports did not arrive".into())),
            }
        } else {
            match port(&data, 0) {
                Some(p) => wasm_bindgen_futures::spawn_local(follow(job, share, Link::open(job, p))),
                None => answer(job, Err("the port of the decoded samples did not arrive".into())),
            }
        }
    }

    fn on_message(event: MessageEvent) {
        let data = event.data();
        match serde_wasm_bindgen::from_value::<ToWorker>(data.clone()) {
            Ok(ToWorker::LoadModels { request, bundles, backbones }) => {
                load_models(&data, request, bundles, &backbones)
            }
            Ok(ToWorker::Analyze { job, name, share }) => start_job(data, job, name, share),
            Ok(ToWorker::Abandon { job }) => relay::abandon(job),
            Err(e) => web_sys::console::error_1(&format!("musicat worker: unreadable message: {e}").into()),
        }
    }

    /// Installs the message handler and tells the page the worker is ready.
    pub fn start() {
        console_error_panic_hook::set_once();
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
        scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        post(&FromWorker::Ready, Vec::new());
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("musicat: `worker` is the browser app's Web Worker (trunk builds it for wasm32);");
    eprintln!("on the command line use `cargo run --release --bin classify -- --help`.");
}
