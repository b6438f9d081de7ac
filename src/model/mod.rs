//! Models: ONNX bundles with JSON sidecars, validated and run with tract.

pub mod backbone;
pub mod bundle;
pub mod catalog;
pub mod error;
#[cfg(not(target_arch = "wasm32"))]
mod inference_threads;
pub mod onnx_check;
pub mod runner;
pub mod sidecar;

pub use backbone::Backbone;
pub use bundle::ModelBundle;
pub use catalog::Models;
pub use error::ModelError;
pub use sidecar::Sidecar;
