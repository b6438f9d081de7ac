//! Export of a trained network as a Musicat bundle (ONNX + sidecar) and its evaluation through
//! the shipped inference path, so export errors cannot hide behind burn's own numbers.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter};

use crate::analyze::Analyzer;
use crate::audio::AudioStream;
use crate::evaluation::ConfusionMatrix;
use crate::model::{Backbone, ModelBundle, Models, Sidecar};

use super::dataset::Example;
use super::net::Classifier;

/// ONNX bytes of `model` with a dynamic batch axis.
pub fn to_onnx<M: Classifier>(model: &M, shape: [usize; 3]) -> Result<Vec<u8>, String> {
    let device = Device::flex();
    let [c, m, f] = shape;
    let sample = Tensor::<4>::zeros([2, c, m, f], &device);
    let validation = Tensor::<4>::zeros([3, c, m, f], &device);
    let specs = [InputSpec::new([AxisSpec::dynamic("batch"), AxisSpec::Static, AxisSpec::Static, AxisSpec::Static])];
    let onnx = OnnxExporter::new()
        .export_dynamic(model, sample, validation, &specs, |m: &M, x: Tensor<4>| m.forward(x))
        .map_err(|e| format!("ONNX export failed: {e}"))?;
    Ok(onnx.as_bytes().to_vec())
}

/// Metrics measured by running a bundle through [`Analyzer`] on held-out files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PathMetrics {
    /// Track-level confusion (mean of segment probabilities, silence left out).
    pub track: ConfusionMatrix,
    /// Segment-level confusion.
    pub segment: ConfusionMatrix,
    /// Files that could not be classified.
    pub failures: usize,
}

/// Classifies every example with the bundle (a head on `backbone`, if given) as the CLI and the app would.
pub fn evaluate_bundle(
    onnx: &[u8],
    sidecar: &Sidecar,
    examples: &[&Example],
    backbone: Option<Arc<Backbone>>,
) -> Result<PathMetrics, String> {
    let json = serde_json::to_string(sidecar).map_err(|e| e.to_string())?;
    let bundle = ModelBundle::from_parts(&sidecar.task, onnx, &json, |_, _| {
        backbone.ok_or_else(|| "the trainer has no backbone for this bundle".to_string())
    })
    .map_err(|e| e.to_string())?;
    let models = Models::new(vec![bundle]);
    let mut analyzer = Analyzer::new(&models);
    let mut track = ConfusionMatrix::new(&sidecar.labels);
    let mut segment = ConfusionMatrix::new(&sidecar.labels);
    let mut failures = 0;
    let index = |label: &str| sidecar.labels.iter().position(|l| l == label);
    for example in examples {
        let report = AudioStream::open_file(&example.path).map_err(Into::into).and_then(|s| analyzer.analyze(s));
        let Ok(report) = report else {
            failures += 1;
            continue;
        };
        if let Some(p) = report.tasks.get(&sidecar.task).and_then(|v| index(&v.label)) {
            track.add(example.label, p);
        }
        for s in &report.segments {
            if let Some(p) = s.tasks.get(&sidecar.task).and_then(|l| index(&l.label)) {
                segment.add(example.label, p);
            }
        }
    }
    Ok(PathMetrics { track, segment, failures })
}

/// Writes `<dir>/<task>.onnx` and `<dir>/<task>.json`.
pub fn write_bundle(dir: &Path, onnx: &[u8], sidecar: &Sidecar) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let onnx_path = dir.join(format!("{}.onnx", sidecar.task));
    std::fs::write(&onnx_path, onnx).map_err(|e| format!("cannot write {}: {e}", onnx_path.display()))?;
    write_sidecar(&dir.join(format!("{}.json", sidecar.task)), sidecar)
}

/// Writes `sidecar` as pretty JSON to `path`.
pub fn write_sidecar(path: &Path, sidecar: &Sidecar) -> Result<(), String> {
    let json = serde_json::to_string_pretty(sidecar).map_err(|e| e.to_string())?;
    std::fs::write(path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}
