//! Why a model bundle could not be loaded or run.

/// A model failure, naming the bundle and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A file of the bundle could not be read.
    #[error("model `{task}`: cannot read {file}: {reason}")]
    Read {
        /// The task the bundle is for.
        task: String,
        /// Which file.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The sidecar JSON is malformed or inconsistent.
    #[error("model `{task}`: its sidecar JSON is invalid: {reason}")]
    Sidecar {
        /// The task the bundle is for.
        task: String,
        /// What is wrong.
        reason: String,
    },
    /// The ONNX file could not be parsed or prepared.
    #[error("model `{task}`: the ONNX file cannot be loaded: {reason}")]
    Onnx {
        /// The task the bundle is for.
        task: String,
        /// tract's explanation.
        reason: String,
    },
    /// The ONNX model and its sidecar disagree.
    #[error("model `{task}`: the ONNX model and its sidecar disagree: {reason}")]
    Mismatch {
        /// The task the bundle is for.
        task: String,
        /// The disagreement.
        reason: String,
    },
    /// Inference failed or produced unusable numbers.
    #[error("model `{task}`: inference failed: {reason}")]
    Inference {
        /// The task the bundle is for.
        task: String,
        /// What happened.
        reason: String,
    },
    /// A directory holds no bundle.
    #[error("no model bundles (<task>.onnx + <task>.json) found in {0}")]
    NoModels(String),
    /// A requested task has no bundle.
    #[error("no model for task `{task}` (available: {available})")]
    UnknownTask {
        /// The requested task.
        task: String,
        /// The tasks that exist.
        available: String,
    },
}
