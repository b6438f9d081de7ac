//! The backbone files that model bundles name (`backbone/musicnn_msd.onnx`): fetched from the
//! app's models folder once, whichever bundles (shipped or the user's own) need them, and sent
//! to the worker once per load however many bundles share one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::worker_api::BundleSource;
use js_sys::Uint8Array;

use super::fetch;

thread_local! {
    /// Backbone bytes by file name (relative to `models/`).
    static FILES: RefCell<HashMap<String, Rc<Vec<u8>>>> = RefCell::new(HashMap::new());
}

/// Makes sure the backbone `bundle` names, if any, is here: fetched from `models/` the first time.
pub async fn fetch_for(bundle: &BundleSource) -> Result<(), String> {
    let Some(file) = bundle.backbone_file() else { return Ok(()) };
    if FILES.with(|f| f.borrow().contains_key(&file)) {
        return Ok(());
    }
    let bytes = fetch::bytes(&format!("models/{file}")).await?;
    FILES.with(|f| f.borrow_mut().insert(file, Rc::new(bytes)));
    Ok(())
}

/// The backbone files `bundles` name that are here, each once, with their bytes for the worker.
pub fn payload(bundles: &[BundleSource]) -> (Vec<String>, Vec<Uint8Array>) {
    let mut names: Vec<String> = Vec::new();
    let mut bytes = Vec::new();
    for file in bundles.iter().filter_map(BundleSource::backbone_file) {
        if names.contains(&file) {
            continue;
        }
        if let Some(found) = FILES.with(|f| f.borrow().get(&file).cloned()) {
            bytes.push(Uint8Array::from(found.as_slice()));
            names.push(file);
        }
    }
    (names, bytes)
}
