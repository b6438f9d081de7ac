//! A model bundle: `<task>.onnx` plus its `<task>.json` sidecar, validated as a pair.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::backbone::{Backbone, BackboneCache};
use super::error::ModelError;
use super::runner::{OnnxRunner, RunnerError};
use super::sidecar::Sidecar;

/// A loaded, validated, ready-to-run model: a whole model, or a head on a shared backbone.
pub struct ModelBundle {
    /// The sidecar's contents.
    pub sidecar: Sidecar,
    runner: OnnxRunner,
    backbone: Option<(Arc<Backbone>, Vec<Range<usize>>)>,
}

impl ModelBundle {
    /// Loads a bundle without a backbone from its two files' contents; `name` is used in error messages.
    pub fn from_bytes(name: &str, onnx: &[u8], sidecar_json: &str) -> Result<Self, ModelError> {
        Self::from_parts(name, onnx, sidecar_json, |_, _| Err("no backbone is available here".into()))
    }

    /// Loads a bundle; when its sidecar names a backbone, `backbone(file, sidecar)` provides it.
    pub fn from_parts(
        name: &str,
        onnx: &[u8],
        sidecar_json: &str,
        backbone: impl FnOnce(&str, &Sidecar) -> Result<Arc<Backbone>, String>,
    ) -> Result<Self, ModelError> {
        let sidecar = Sidecar::from_json(sidecar_json)
            .map_err(|reason| ModelError::Sidecar { task: name.to_string(), reason })?;
        let task = sidecar.task.clone();
        let mismatch = |reason: String| ModelError::Mismatch { task: task.clone(), reason };
        let (shape, backbone) = match &sidecar.backbone {
            None => (sidecar.features.input_shape(), None),
            Some(wanted) => {
                let loaded = backbone(&wanted.file, &sidecar)
                    .map_err(|reason| mismatch(format!("its backbone {} cannot be used: {reason}", wanted.file)))?;
                if loaded.features() != &sidecar.features {
                    return Err(mismatch(format!(
                        "its feature parameters differ from those of backbone {}",
                        wanted.file
                    )));
                }
                let ranges = loaded.ranges(&wanted.outputs).map_err(mismatch)?;
                let width = ranges.iter().map(|r| r.len()).sum();
                (vec![width], Some((loaded, ranges)))
            }
        };
        let runner = OnnxRunner::load(onnx, &shape).map_err(|e| runner_error(&task, e))?;
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
        Ok(Self { sidecar, runner, backbone })
    }

    /// Loads `<dir>/<task>.onnx` and `<dir>/<task>.json` (and the backbone it names, from `<dir>`).
    pub fn from_files(onnx_path: &Path) -> Result<Self, ModelError> {
        Self::from_files_sharing(onnx_path, &mut BackboneCache::default())
    }

    /// Like [`ModelBundle::from_files`], taking the backbone from `backbones` when already loaded.
    pub fn from_files_sharing(onnx_path: &Path, backbones: &mut BackboneCache) -> Result<Self, ModelError> {
        let name = onnx_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let json_path = onnx_path.with_extension("json");
        let read_error = |file: &Path, e: std::io::Error| ModelError::Read {
            task: name.clone(),
            file: file.display().to_string(),
            reason: e.to_string(),
        };
        let onnx = std::fs::read(onnx_path).map_err(|e| read_error(onnx_path, e))?;
        let json = std::fs::read_to_string(&json_path).map_err(|e| read_error(&json_path, e))?;
        let dir = onnx_path.parent().unwrap_or(Path::new("."));
        Self::from_parts(&name, &onnx, &json, |file, sidecar| {
            backbones.get_or_load(file, &sidecar.features, || std::fs::read(dir.join(file)).map_err(|e| e.to_string()))
        })
    }

    /// The task name (`genre`, `mood`, …).
    pub fn task(&self) -> &str {
        &self.sidecar.task
    }

    /// The ready runner (of the head, when there is a backbone).
    pub fn runner(&self) -> &OnnxRunner {
        &self.runner
    }

    /// The backbone this model is a head on, and where its input lies in the backbone's output row.
    pub fn backbone(&self) -> Option<(&Arc<Backbone>, &[Range<usize>])> {
        self.backbone.as_ref().map(|(b, r)| (b, r.as_slice()))
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
