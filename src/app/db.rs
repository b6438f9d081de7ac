//! The library in IndexedDB: stores `tracks`, `classifications`, `segments` (the rows of
//! `record.rs`), `models` (the user's own bundles and which models are switched on) and `labels`.

use js_sys::{Array, Promise};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbObjectStoreParameters, IdbRequest, IdbTransaction, IdbTransactionMode};

use super::record::{TrackRecord, TrackRows};

const NAME: &str = "musicat";
const VERSION: u32 = 1;
pub const TRACKS: &str = "tracks";
pub const CLASSIFICATIONS: &str = "classifications";
pub const SEGMENTS: &str = "segments";
pub const MODELS: &str = "models";
pub const LABELS: &str = "labels";
const STORES: [&str; 5] = [TRACKS, CLASSIFICATIONS, SEGMENTS, MODELS, LABELS];

/// A message for the user from a JS error.
pub fn js_error(context: &str, e: JsValue) -> String {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    format!("{context}: {detail}")
}

/// Resolves when `request` succeeds, with its result.
async fn settle(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let error = failed.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| js_error("the library (IndexedDB) failed", e))
}

/// Resolves when `tx` has committed.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let failed = tx.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let error = failed.error().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onerror(Some(on_error.clone().unchecked_ref()));
        tx.set_onabort(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| js_error("saving to the library (IndexedDB) failed", e))
}

/// The open database.
#[derive(Clone)]
pub struct Db(IdbDatabase);

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, String> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| format!("cannot store a record: {e}"))
}

fn from_js<T: DeserializeOwned>(values: JsValue) -> Vec<T> {
    Array::from(&values).iter().filter_map(|v| serde_wasm_bindgen::from_value(v).ok()).collect()
}

impl Db {
    /// Opens (and on first use creates) the database.
    pub async fn open() -> Result<Self, String> {
        let window = web_sys::window().ok_or("no window")?;
        let factory = window
            .indexed_db()
            .map_err(|e| js_error("IndexedDB is not available", e))?
            .ok_or("IndexedDB is not available in this browser (private mode?): the library cannot be kept")?;
        let request = factory.open_with_u32(NAME, VERSION).map_err(|e| js_error("cannot open the library", e))?;
        let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Some(request) = event.target().and_then(|t| t.dyn_into::<IdbRequest>().ok()) else { return };
            let Ok(db) = request.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else { return };
            for store in STORES {
                if !db.object_store_names().contains(store) {
                    let params = IdbObjectStoreParameters::new();
                    params.set_key_path(&JsValue::from_str("id"));
                    let _ = db.create_object_store_with_optional_parameters(store, &params);
                }
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db = settle(&request).await;
        request.set_onupgradeneeded(None);
        drop(upgrade);
        Ok(Self(db?.unchecked_into()))
    }

    fn transaction(&self, stores: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        self.0
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(|e| js_error("the library is unavailable", e))
    }

    /// Every row of a store.
    pub async fn all<T: DeserializeOwned>(&self, store: &str) -> Result<Vec<T>, String> {
        let tx = self.transaction(&[store], IdbTransactionMode::Readonly)?;
        let request =
            tx.object_store(store).and_then(|s| s.get_all()).map_err(|e| js_error("reading the library failed", e))?;
        Ok(from_js(settle(&request).await?))
    }

    /// Every raw row of a store (for rows holding bytes).
    pub async fn all_raw(&self, store: &str) -> Result<Vec<JsValue>, String> {
        let tx = self.transaction(&[store], IdbTransactionMode::Readonly)?;
        let request =
            tx.object_store(store).and_then(|s| s.get_all()).map_err(|e| js_error("reading the library failed", e))?;
        Ok(Array::from(&settle(&request).await?).to_vec())
    }

    /// Writes rows (serde values or raw JS objects) into `store`.
    pub async fn put_all(&self, store: &str, rows: Vec<JsValue>) -> Result<(), String> {
        let tx = self.transaction(&[store], IdbTransactionMode::Readwrite)?;
        let object_store = tx.object_store(store).map_err(|e| js_error("the library is unavailable", e))?;
        for row in rows {
            object_store.put(&row).map_err(|e| js_error("saving to the library failed", e))?;
        }
        committed(&tx).await
    }

    /// Serialises and writes rows.
    pub async fn put<T: Serialize>(&self, store: &str, rows: &[T]) -> Result<(), String> {
        let values = rows.iter().map(to_js).collect::<Result<Vec<_>, _>>()?;
        self.put_all(store, values).await
    }

    /// Deletes one row by key.
    pub async fn delete(&self, store: &str, key: &str) -> Result<(), String> {
        let tx = self.transaction(&[store], IdbTransactionMode::Readwrite)?;
        tx.object_store(store)
            .and_then(|s| s.delete(&JsValue::from_str(key)))
            .map_err(|e| js_error("deleting failed", e))?;
        committed(&tx).await
    }

    /// Stores one classified track (its track, classification and segment rows) and deletes the
    /// tracks it `replaces`, atomically.
    pub async fn save_track(&self, record: &TrackRecord, replaces: &[String]) -> Result<(), String> {
        let rows = record.to_rows();
        let tx = self.transaction(&[TRACKS, CLASSIFICATIONS, SEGMENTS], IdbTransactionMode::Readwrite)?;
        for id in replaces {
            delete_rows(&tx, Some(id))?;
        }
        let put = |store: &str, values: Vec<JsValue>| -> Result<(), String> {
            let s = tx.object_store(store).map_err(|e| js_error("the library is unavailable", e))?;
            for v in values {
                s.put(&v).map_err(|e| js_error("saving to the library failed", e))?;
            }
            Ok(())
        };
        put(TRACKS, rows.tracks.iter().map(to_js).collect::<Result<_, _>>()?)?;
        put(CLASSIFICATIONS, rows.classifications.iter().map(to_js).collect::<Result<_, _>>()?)?;
        put(SEGMENTS, rows.segments.iter().map(to_js).collect::<Result<_, _>>()?)?;
        committed(&tx).await
    }

    /// Every track of the library, newest first.
    pub async fn load_tracks(&self) -> Result<Vec<TrackRecord>, String> {
        let rows = TrackRows {
            tracks: self.all(TRACKS).await?,
            classifications: self.all(CLASSIFICATIONS).await?,
            segments: self.all(SEGMENTS).await?,
        };
        Ok(TrackRecord::from_rows(rows))
    }

    /// Deletes one track with its classifications and segment predictions, or (`None`) all tracks.
    pub async fn delete_tracks(&self, id: Option<&str>) -> Result<(), String> {
        let tx = self.transaction(&[TRACKS, CLASSIFICATIONS, SEGMENTS], IdbTransactionMode::Readwrite)?;
        delete_rows(&tx, id)?;
        committed(&tx).await
    }
}

/// Deletes in `tx` one track's rows in every store (its classifications and segments are keyed
/// `id/…`), or (`None`) every track's.
fn delete_rows(tx: &IdbTransaction, id: Option<&str>) -> Result<(), String> {
    for store in [TRACKS, CLASSIFICATIONS, SEGMENTS] {
        let s = tx.object_store(store).map_err(|e| js_error("the library is unavailable", e))?;
        let result = match id {
            None => s.clear(),
            Some(id) if store == TRACKS => s.delete(&JsValue::from_str(id)),
            Some(id) => IdbKeyRange::bound(&format!("{id}/").into(), &format!("{id}/\u{ffff}").into())
                .and_then(|range| s.delete(&range)),
        };
        result.map_err(|e| js_error("deleting failed", e))?;
    }
    Ok(())
}

thread_local! {
    static OPEN: std::cell::RefCell<Option<Db>> = const { std::cell::RefCell::new(None) };
}

/// Remembers the opened database for [`current`].
pub fn set_current(db: Db) {
    OPEN.with(|o| *o.borrow_mut() = Some(db));
}

/// The database opened at start, if it could be.
pub fn current() -> Option<Db> {
    OPEN.with(|o| o.borrow().clone())
}
