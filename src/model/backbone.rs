//! A pretrained backbone (e.g. musicnn) shared by several task heads: run once per batch of
//! spectrograms, its outputs (embeddings, tag logits) become the heads' inputs.

use std::ops::Range;
use std::sync::Arc;

use super::error::ModelError;
use super::runner::OnnxRunner;
use crate::features::FeatureParams;

/// A loaded backbone with every output it declares.
pub struct Backbone {
    file: String,
    features: FeatureParams,
    runner: OnnxRunner,
}

impl Backbone {
    /// Loads the backbone ONNX `onnx` (named `file` in messages) for spectrograms made with `features`.
    pub fn from_bytes(file: &str, onnx: &[u8], features: &FeatureParams) -> Result<Self, ModelError> {
        let runner = OnnxRunner::load(onnx, &features.input_shape())
            .map_err(|e| super::bundle::runner_error(&format!("backbone {file}"), e))?;
        Ok(Self { file: file.to_string(), features: features.clone(), runner })
    }

    /// The file it was loaded from, as the sidecars name it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The feature parameters its input is made with.
    pub fn features(&self) -> &FeatureParams {
        &self.features
    }

    /// The prepared runner (all outputs, item by item).
    pub fn runner(&self) -> &OnnxRunner {
        &self.runner
    }

    /// Values per item over all outputs.
    pub fn width(&self) -> usize {
        self.runner.output_layout().map(|(_, w)| w).sum()
    }

    /// Where each of the named outputs lies in one item's values, in the order given.
    pub fn ranges(&self, names: &[String]) -> Result<Vec<Range<usize>>, String> {
        names
            .iter()
            .map(|name| {
                let mut start = 0;
                for (output, width) in self.runner.output_layout() {
                    if output == name {
                        return Ok(start..start + width);
                    }
                    start += width;
                }
                let known: Vec<&str> = self.runner.output_layout().map(|(n, _)| n).collect();
                Err(format!("the backbone {} has no output `{name}` (it has {})", self.file, known.join(", ")))
            })
            .collect()
    }
}

/// Backbones loaded so far, shared by the heads that name them (one copy per file and front end).
#[derive(Default)]
pub struct BackboneCache {
    loaded: Vec<Arc<Backbone>>,
}

impl BackboneCache {
    /// The backbone `file` for `features`, loaded with the bytes `read` returns the first time.
    pub fn get_or_load(
        &mut self,
        file: &str,
        features: &FeatureParams,
        read: impl FnOnce() -> Result<Vec<u8>, String>,
    ) -> Result<Arc<Backbone>, String> {
        if let Some(found) = self.loaded.iter().find(|b| b.file == file && &b.features == features) {
            return Ok(Arc::clone(found));
        }
        let backbone = Arc::new(Backbone::from_bytes(file, &read()?, features).map_err(|e| e.to_string())?);
        self.loaded.push(Arc::clone(&backbone));
        Ok(backbone)
    }
}
