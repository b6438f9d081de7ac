//! A model bundle: `<task>.onnx` plus its `<task>.json` sidecar, validated as a pair.

use std::path::Path;

use super::error::ModelError;
use super::runner::{OnnxRunner, RunnerError};
use super::sidecar::Sidecar;

/// A loaded, validated, ready-to-run model.
pub struct ModelBundle {
    /// The sidecar's contents.
    pub sidecar: Sidecar,
    runner: OnnxRunner,
}

impl ModelBundle {
    /// Loads a bundle from its two files' contents; `name` is used in error messages.
    pub fn from_bytes(name: &str, onnx: &[u8], sidecar_json: &str) -> Result<Self, ModelError> {
        let sidecar = Sidecar::from_json(sidecar_json)
            .map_err(|reason| ModelError::Sidecar { task: name.to_string(), reason })?;
        let task = sidecar.task.clone();
        let shape = sidecar.features.input_shape();
        let runner = OnnxRunner::load(onnx, shape).map_err(|e| runner_error(&task, e))?;
        if runner.outputs() != sidecar.labels.len() {
            return Err(ModelError::Mismatch {
                task,
                reason: format!(
                    "the model has {} outputs but the sidecar lists {} labels",
                    runner.outputs(),
                    sidecar.labels.len()
                ),
            });
        }
        Ok(Self { sidecar, runner })
    }

    /// Loads `<dir>/<task>.onnx` and `<dir>/<task>.json`.
    pub fn from_files(onnx_path: &Path) -> Result<Self, ModelError> {
        let name = onnx_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let json_path = onnx_path.with_extension("json");
        let read_error = |file: &Path, e: std::io::Error| ModelError::Read {
            task: name.clone(),
            file: file.display().to_string(),
            reason: e.to_string(),
        };
        let onnx = std::fs::read(onnx_path).map_err(|e| read_error(onnx_path, e))?;
        let json = std::fs::read_to_string(&json_path).map_err(|e| read_error(&json_path, e))?;
        Self::from_bytes(&name, &onnx, &json)
    }

    /// The task name (`genre`, `mood`, …).
    pub fn task(&self) -> &str {
        &self.sidecar.task
    }

    /// The ready runner.
    pub fn runner(&self) -> &OnnxRunner {
        &self.runner
    }
}

/// Adds the task name to a runner failure.
pub fn runner_error(task: &str, error: RunnerError) -> ModelError {
    let task = task.to_string();
    match error {
        RunnerError::Onnx(reason) => ModelError::Onnx { task, reason },
        RunnerError::Mismatch(reason) => ModelError::Mismatch { task, reason },
        RunnerError::Inference(reason) => ModelError::Inference { task, reason },
    }
}
