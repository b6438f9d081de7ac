//! The models on offer: the shipped bundles listed in `models/index.json`, and the user's own
//! bundles, validated by the worker and then remembered in IndexedDB with the on/off choices.

use crate::worker_api::{BundleSource, ModelSummary};
use js_sys::{Reflect, Uint8Array};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use super::db::{self, LABELS, MODELS, js_error};
use super::bundle_store::{bundle_files, forget_bundle, remember_bundle};
use super::{backbones, engine, fetch};
use super::state::{AppState, ModelEntry, ModelSource};

/// `models/index.json`.
#[derive(Deserialize)]
struct Index {
    bundles: Vec<String>,
}

/// The `models` store row (own models also carry their ONNX bytes as `onnx`).
#[derive(Serialize, Deserialize)]
struct ModelRow {
    id: String,
    own: bool,
    enabled: bool,
    task: Option<String>,
    labels: Vec<String>,
    trained_on: String,
    sidecar: Option<String>,
}

/// The `labels` store row.
#[derive(Serialize)]
struct LabelRow {
    id: String,
    task: String,
    model: String,
    name: String,
    index: usize,
}

async fn read_file(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| js_error(&file.name(), e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn entry(name: String, source: ModelSource, enabled: bool) -> ModelEntry {
    ModelEntry {
        name,
        source,
        enabled,
        task: None,
        labels: Vec::new(),
        trained_on: String::new(),
        multi_label: false,
        error: None,
        pending: false,
    }
}

/// Fetches the shipped backbone a user's own model names, if any. When there is none of that
/// name, the worker refuses the model and says so.
async fn fetch_backbone(name: &str, sidecar: &str) {
    let bundle = BundleSource { name: name.to_string(), sidecar: sidecar.to_string() };
    if let Err(e) = backbones::fetch_for(&bundle).await {
        web_sys::console::warn_1(&format!("your model \"{name}\": {e}").into());
    }
}

/// Loads the shipped models and the user's own, then hands them to the workers.
pub async fn load(state: AppState) {
    let mut entries = Vec::new();
    match fetch::text("models/index.json")
        .await
        .and_then(|t| serde_json::from_str::<Index>(&t).map_err(|e| format!("models/index.json is not valid: {e}")))
    {
        Ok(index) => {
            // Every bundle's two files at once; then the backbones they name, each once.
            let fetched = futures::future::join_all(index.bundles.into_iter().map(|name| async move {
                let (sidecar, onnx) = (format!("models/{name}.json"), format!("models/{name}.onnx"));
                let files = futures::future::try_join(fetch::text(&sidecar), fetch::bytes(&onnx)).await;
                (name, files)
            }))
            .await;
            for (name, files) in fetched {
                let files = async {
                    let (sidecar, onnx) = files?;
                    backbones::fetch_for(&BundleSource { name: name.clone(), sidecar: sidecar.clone() }).await?;
                    Ok::<_, String>((sidecar, onnx))
                };
                match files.await {
                    Ok((sidecar, onnx)) => {
                        remember_bundle(&name, sidecar, onnx);
                        entries.push(entry(name, ModelSource::Shipped, true));
                    }
                    Err(e) => state.notice(format!("the shipped model \"{name}\" cannot be loaded: {e}")),
                }
            }
        }
        Err(e) => state.notice(format!("no shipped models: {e}")),
    }
    if let Some(db) = db::current() {
        match db.all_raw(MODELS).await {
            Ok(rows) => {
                for raw in rows {
                    let Ok(row) = serde_wasm_bindgen::from_value::<ModelRow>(raw.clone()) else { continue };
                    if row.own {
                        let onnx =
                            Reflect::get(&raw, &"onnx".into()).ok().and_then(|v| v.dyn_into::<Uint8Array>().ok());
                        if let (Some(sidecar), Some(onnx)) = (row.sidecar, onnx) {
                            fetch_backbone(&row.id, &sidecar).await;
                            remember_bundle(&row.id, sidecar, onnx.to_vec());
                            entries.push(entry(row.id, ModelSource::Own, row.enabled));
                        }
                    } else if let Some(e) = entries.iter_mut().find(|e| e.name == row.id) {
                        e.enabled = row.enabled;
                    }
                }
            }
            Err(e) => state.notice(e),
        }
    }
    state.models.set(entries);
    engine::send_models(state);
}

/// Applies the worker's answer: fills in tasks and labels, shows refusals, and keeps newly
/// validated own models (a refused new one is dropped).
pub fn models_loaded(state: AppState, loaded: &[ModelSummary], refused: &[(String, String)]) {
    let mut dropped = Vec::new();
    let mut accepted = Vec::new();
    state.models.update(|entries| {
        for e in entries.iter_mut() {
            if let Some(s) = loaded.iter().find(|s| s.name == e.name) {
                e.task = Some(s.task.clone());
                e.labels = s.labels.clone();
                e.trained_on = s.trained_on.clone();
                e.multi_label = s.multi_label;
                e.error = None;
                // Shipped models get their row (task, labels) too; own ones once, with their files.
                if e.pending || e.source == ModelSource::Shipped {
                    e.pending = false;
                    accepted.push(e.clone());
                }
            } else if let Some((_, message)) = refused.iter().find(|(n, _)| *n == e.name) {
                e.error = Some(message.clone());
                if e.pending {
                    dropped.push((e.name.clone(), message.clone()));
                }
            } else if !e.enabled {
                e.error = None;
            }
        }
        entries.retain(|e| !dropped.iter().any(|(n, _)| *n == e.name));
    });
    for (name, message) in &dropped {
        forget_bundle(name);
        state.notice(format!("your model \"{name}\" was not loaded: {message}"));
    }
    if !dropped.is_empty() {
        engine::send_models(state);
    }
    let labels: Vec<LabelRow> = loaded
        .iter()
        .flat_map(|s| {
            s.labels.iter().enumerate().map(|(index, l)| LabelRow {
                id: format!("{}/{l}", s.task),
                task: s.task.clone(),
                model: s.name.clone(),
                name: l.clone(),
                index,
            })
        })
        .collect();
    leptos::task::spawn_local(async move {
        let Some(db) = db::current() else { return };
        if let Err(e) = db.put(LABELS, &labels).await {
            state.notice(e);
        }
        for model in accepted {
            if let Err(e) = save(&db, &model).await {
                state.notice(format!("the model \"{}\" works but cannot be kept in the library: {e}", model.name));
            }
        }
    });
}

/// Writes a model's row (with the ONNX bytes for own models).
async fn save(db: &db::Db, model: &ModelEntry) -> Result<(), String> {
    let own = model.source == ModelSource::Own;
    let files = if own { bundle_files(&model.name) } else { None };
    let row = ModelRow {
        id: model.name.clone(),
        own,
        enabled: model.enabled,
        task: model.task.clone(),
        labels: model.labels.clone(),
        trained_on: model.trained_on.clone(),
        sidecar: files.as_ref().map(|(s, _)| s.clone()),
    };
    let value = row
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| format!("cannot store the model: {e}"))?;
    if let Some((_, onnx)) = files {
        Reflect::set(&value, &"onnx".into(), &Uint8Array::from(onnx.as_slice()))
            .map_err(|e| js_error("cannot store the model", e))?;
    }
    db.put_all(MODELS, vec![value]).await
}

/// Switches a model on or off (remembered) and reloads the worker's models.
pub fn toggle(state: AppState, name: &str, enabled: bool) {
    let mut changed = None;
    state.models.update(|entries| {
        if let Some(e) = entries.iter_mut().find(|e| e.name == name) {
            e.enabled = enabled;
            changed = Some(e.clone());
        }
    });
    engine::send_models(state);
    if let Some(model) = changed.filter(|m| !m.pending) {
        leptos::task::spawn_local(async move {
            if let Some(db) = db::current()
                && let Err(e) = save(&db, &model).await
            {
                state.notice(e);
            }
        });
    }
}

/// Removes one of the user's own models.
pub fn remove(state: AppState, name: &str) {
    state.models.update(|entries| entries.retain(|e| e.name != name));
    forget_bundle(name);
    engine::send_models(state);
    let name = name.to_string();
    leptos::task::spawn_local(async move {
        if let Some(db) = db::current()
            && let Err(e) = db.delete(MODELS, &name).await
        {
            state.notice(e);
        }
    });
}

/// Adds the user's own model from its two files (`x.onnx` and `x.json`), to be validated by the worker.
pub async fn add_own(state: AppState, files: Vec<File>) {
    let find = |ext: &str| files.iter().find(|f| f.name().to_lowercase().ends_with(ext));
    let (Some(onnx), Some(json)) = (find(".onnx"), find(".json")) else {
        state.notice("to load your own model, pick its two files together: the .onnx model and its .json sidecar");
        return;
    };
    let stem = onnx.name().rsplit_once('.').map_or(onnx.name(), |(s, _)| s.to_string());
    let taken = |name: &str| state.models.with_untracked(|m| m.iter().any(|e| e.name == name));
    let name = std::iter::once(stem.clone())
        .chain((1..).map(|i| if i == 1 { format!("{stem} (yours)") } else { format!("{stem} (yours {i})") }))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let read = async { Ok::<_, String>((read_file(json).await?, read_file(onnx).await?)) };
    match read.await {
        Ok((sidecar, onnx)) => {
            let Ok(sidecar) = String::from_utf8(sidecar) else {
                state.notice(format!("{}: the sidecar is not UTF-8 text", json.name()));
                return;
            };
            fetch_backbone(&name, &sidecar).await;
            remember_bundle(&name, sidecar, onnx);
            let mut own = entry(name, ModelSource::Own, true);
            own.pending = true;
            state.models.update(|m| m.push(own));
            engine::send_models(state);
        }
        Err(e) => state.notice(e),
    }
}
