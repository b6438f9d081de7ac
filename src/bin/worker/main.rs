//! The browser app's Web Worker (built by trunk as a second wasm binary): loads the model
//! bundles and decodes, analyses and classifies dropped files off the page's thread.
//! Messages are `musicat::worker_api`. On native targets this binary only explains itself.

#[cfg(target_arch = "wasm32")]
mod file;
#[cfg(any(target_arch = "wasm32", test))]
mod picture;

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::RefCell;

    use js_sys::{Array, Reflect, Uint8Array};
    use musicat::features::MelThumbnail;
    use musicat::model::backbone::BackboneCache;
    use musicat::model::runner::Activation;
    use musicat::share::Share;
    use musicat::worker_api::{BundleSource, FromWorker, ModelSummary, PictureShape, StageMs, ToWorker};
    use musicat::{Analyzer, AudioStream, ModelBundle, Models};
    use serde::Serialize;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    use super::picture::PictureSource;

    /// Rows of the spectrogram picture.
    const PICTURE_ROWS: usize = 64;
    /// Columns per second of the spectrogram picture.
    const PICTURE_COLUMNS_PER_SECOND: f64 = 10.0;
    /// Smallest progress step reported.
    const PROGRESS_STEP: f64 = 0.02;

    thread_local! {
        static MODELS: RefCell<Option<Models>> = const { RefCell::new(None) };
        /// Backbones loaded so far: heads naming one share it, across loads of the models too.
        static BACKBONES: RefCell<BackboneCache> = RefCell::new(BackboneCache::default());
    }

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
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
        let models = (!loaded.is_empty()).then(|| Models::new(loaded));
        MODELS.with(|m| *m.borrow_mut() = models);
        summaries.sort_by(|a, b| a.task.cmp(&b.task));
        post(&FromWorker::ModelsLoaded { request, loaded: summaries, refused }, Vec::new());
    }

    /// Reads the file of job `job` (`payload[0]`, checked against the size limit first) and classifies it.
    async fn read_and_analyze(data: JsValue, job: u32, name: String, share: Share) {
        let item = Reflect::get(&data, &"payload".into())
            .ok()
            .and_then(|p| p.dyn_into::<Array>().ok())
            .map(|p| p.get(0))
            .unwrap_or(JsValue::UNDEFINED);
        match super::file::read(item).await {
            Ok(bytes) => analyze(job, &name, bytes, share),
            Err(message) => post(&FromWorker::Failed { job, message }, Vec::new()),
        }
    }

    fn analyze(job: u32, name: &str, bytes: Vec<u8>, share: Share) {
        let outcome = MODELS.with(|m| {
            let models = m.borrow();
            let models = models.as_ref().ok_or_else(|| "no model is loaded: pick one in Models".to_string())?;
            let extension = name.rsplit_once('.').map(|(_, e)| e);
            let stream = AudioStream::open_bytes(bytes, extension).map_err(|e| e.to_string())?;
            let analyzer = Analyzer::new(models).with_share(share);
            let mut analyzer = if share.index == 0 { analyzer.with_descriptors() } else { analyzer };
            let mut picture = MelThumbnail::new(PICTURE_ROWS, PICTURE_COLUMNS_PER_SECOND);
            let mut source = PictureSource::choose(models.bundles().iter().map(|b| &b.sidecar.features));
            let mut last = 0.0;
            let report = analyzer
                .analyze_observed(
                    stream,
                    &mut |fraction| {
                        if fraction - last >= PROGRESS_STEP {
                            last = fraction;
                            post(&FromWorker::Progress { job, fraction }, Vec::new());
                        }
                    },
                    &mut |segment| {
                        // Tasks with other feature parameters see the same audio: draw one set.
                        let Some(source) = source.as_mut() else { return };
                        let (start_s, end_s) = source.span(segment.start_s, segment.end_s);
                        if let Some(db) = source.decibels(segment.params, segment.db) {
                            picture.add(segment.params, start_s, end_s, db);
                        }
                    },
                )
                .map_err(|e| e.to_string())?;
            let t = analyzer.times();
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
            let stages = StageMs {
                decode: ms(t.decode),
                resample: ms(t.resample),
                mel: ms(t.mel),
                inference: ms(t.inference),
                descriptors: ms(t.descriptors),
            };
            Ok::<_, String>((report, picture, stages))
        });
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

    fn on_message(event: MessageEvent) {
        let data = event.data();
        match serde_wasm_bindgen::from_value::<ToWorker>(data.clone()) {
            Ok(ToWorker::LoadModels { request, bundles, backbones }) => {
                load_models(&data, request, bundles, &backbones)
            }
            Ok(ToWorker::Analyze { job, name, share }) => {
                wasm_bindgen_futures::spawn_local(read_and_analyze(data, job, name, share))
            }
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
