//! Runs an ONNX model with tract on batches of spectrograms and returns probabilities.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// A model prepared once (`into_optimized`) for inputs `[batch, 1, n_mels, frames]`.
pub struct OnnxRunner {
    plan: Arc<TypedRunnableModel>,
    item_shape: [usize; 3],
    outputs: usize,
}

/// Largest ONNX file accepted, in bytes.
pub const MAX_ONNX_BYTES: usize = 64 << 20;

impl OnnxRunner {
    /// Parses and optimises `onnx` for items of `item_shape`; checks the declared input shape
    /// against it and returns the number of outputs per item.
    pub fn load(onnx: &[u8], item_shape: [usize; 3]) -> Result<Self, RunnerError> {
        if onnx.len() > MAX_ONNX_BYTES {
            return Err(RunnerError::Onnx(format!(
                "it is {} MB; the limit is {} MB",
                onnx.len() >> 20,
                MAX_ONNX_BYTES >> 20
            )));
        }
        let mut model =
            tract_onnx::onnx().model_for_read(&mut &onnx[..]).map_err(|e| RunnerError::Onnx(format!("{e:#}")))?;
        if model.input_outlets().map_or(0, |i| i.len()) != 1 {
            return Err(RunnerError::Mismatch("the model must have exactly one input".into()));
        }
        check_declared_input(&model, item_shape)?;
        let batch = model.sym("batch");
        let shape: TVec<TDim> = std::iter::once(batch.to_dim()).chain(item_shape.iter().map(|&d| d.to_dim())).collect();
        model = model.with_input_fact(0, f32::fact(shape).into()).map_err(|e| RunnerError::Onnx(format!("{e:#}")))?;
        let typed = model.into_optimized().map_err(|e| RunnerError::Mismatch(format!("{e:#}")))?;
        let output = typed.output_fact(0).map_err(|e| RunnerError::Onnx(format!("{e:#}")))?;
        let dims = output.shape.dims();
        let outputs = match dims {
            [_, last] => last.to_i64().ok().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        }
        .ok_or_else(|| {
            RunnerError::Mismatch(format!("the output shape is {:?}; expected [batch, labels]", output.shape))
        })?;
        let plan = typed.into_runnable().map_err(|e| RunnerError::Onnx(format!("{e:#}")))?;
        Ok(Self { plan, item_shape, outputs })
    }

    /// Values per output item (the number of labels).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Values per input item.
    pub fn item_len(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// Runs `count` items laid out one after another in `inputs`, appending `count × outputs`
    /// softmax probabilities to `probabilities`.
    pub fn probabilities(&self, inputs: &[f32], count: usize, probabilities: &mut Vec<f32>) -> Result<(), RunnerError> {
        let [c, m, f] = self.item_shape;
        let tensor = Tensor::from_shape(&[count, c, m, f], &inputs[..count * self.item_len()])
            .map_err(|e| RunnerError::Inference(format!("{e:#}")))?;
        let result = self.plan.run(tvec!(tensor.into())).map_err(|e| RunnerError::Inference(format!("{e:#}")))?;
        let logits = result[0].to_plain_array_view::<f32>().map_err(|e| RunnerError::Inference(format!("{e:#}")))?;
        let logits = logits.as_slice().ok_or_else(|| RunnerError::Inference("output is not contiguous".into()))?;
        if logits.len() != count * self.outputs {
            return Err(RunnerError::Inference(format!("got {} outputs for {count} items", logits.len())));
        }
        if logits.iter().any(|v| !v.is_finite()) {
            return Err(RunnerError::Inference("the model produced NaN or infinite values".into()));
        }
        for row in logits.chunks_exact(self.outputs) {
            let start = probabilities.len();
            softmax_into(row, probabilities);
            debug_assert_eq!(probabilities.len() - start, self.outputs);
        }
        Ok(())
    }
}

/// Appends `softmax(logits)` to `out`.
pub fn softmax_into(logits: &[f32], out: &mut Vec<f32>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let start = out.len();
    out.extend(logits.iter().map(|&l| (l - max).exp()));
    let sum: f32 = out[start..].iter().sum();
    out[start..].iter_mut().for_each(|p| *p /= sum);
}

fn check_declared_input(model: &InferenceModel, item_shape: [usize; 3]) -> Result<(), RunnerError> {
    let Ok(fact) = model.input_fact(0) else { return Ok(()) };
    let declared: Vec<Option<i64>> = fact.shape.dims().map(|d| d.concretize().and_then(|d| d.to_i64().ok())).collect();
    if declared.is_empty() {
        return Ok(());
    }
    if declared.len() != 4 {
        return Err(RunnerError::Mismatch(format!(
            "the model's input has rank {}; expected 4 ([batch, 1, n_mels, frames])",
            declared.len()
        )));
    }
    for (axis, (d, want)) in declared[1..].iter().zip(item_shape).enumerate() {
        if let Some(d) = d
            && *d != want as i64
        {
            let name = ["channels", "n_mels", "frames"][axis];
            return Err(RunnerError::Mismatch(format!(
                "the model expects {name} = {d} but the sidecar's feature parameters give {want}"
            )));
        }
    }
    Ok(())
}

/// Failure of the runner, without the task name (the bundle adds it).
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerError {
    /// Unreadable ONNX.
    Onnx(String),
    /// Shapes disagree with the sidecar.
    Mismatch(String),
    /// Running failed.
    Inference(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let mut out = vec![];
        softmax_into(&[1000.0, 1000.0, -1000.0], &mut out);
        assert!((out[0] - 0.5).abs() < 1e-6 && (out[1] - 0.5).abs() < 1e-6 && out[2] == 0.0);
    }

    #[test]
    fn garbage_bytes_are_an_onnx_error() {
        let err = OnnxRunner::load(b"not an onnx model at all", [1, 128, 216]).err().unwrap();
        assert!(matches!(err, RunnerError::Onnx(_)), "{err:?}");
    }
}
