//! The files (sidecar text and ONNX bytes) of every known model, by name, kept so they can be
//! sent to workers as they start or restart.

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// Sidecar text and ONNX bytes of every known model, by name.
    static BUNDLES: RefCell<HashMap<String, (String, Vec<u8>)>> = RefCell::new(HashMap::new());
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
