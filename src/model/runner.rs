//! Runs an ONNX model with tract on spectrograms, item by item (a batch split over the cores
//! natively), and returns probabilities.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::onnx_check::check_graph;

/// How a model's raw outputs (logits) become scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// One label per item: scores sum to 1.
    #[default]
    Softmax,
    /// Independent tags: each score is its own probability.
    Sigmoid,
}

impl Activation {
    /// Appends the scores of one row of `logits` to `out`.
    pub fn apply_into(self, logits: &[f32], out: &mut Vec<f32>) {
        match self {
            Activation::Softmax => softmax_into(logits, out),
            Activation::Sigmoid => out.extend(logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp()))),
        }
    }
}

/// A model prepared once (`into_optimized`) for one item at a time, `[1, ..item_shape]`, with one
/// or more outputs `[1, width]`. A concrete batch of one lets tract pack convolution patches
/// straight into its matrix kernels and fuse the element-wise tails; with a symbolic batch it
/// copies every patch matrix first: the musicnn backbone took 78 ms per patch that way (100 ms
/// per patch in batches of two) against 60 ms item by item (`examples/backbone_profile.rs`).
#[derive(Clone)]
pub struct OnnxRunner {
    plan: Arc<TypedRunnableModel>,
    item_shape: Vec<usize>,
    output_names: Vec<String>,
    output_widths: Vec<usize>,
}

/// Largest ONNX file accepted, in bytes.
pub const MAX_ONNX_BYTES: usize = 64 << 20;

impl OnnxRunner {
    /// Parses and optimises `onnx` for items of `item_shape`; checks the declared input shape
    /// against it and that every output is `[batch, width]`.
    pub fn load(onnx: &[u8], item_shape: &[usize]) -> Result<Self, RunnerError> {
        contain_panics(|| Self::load_unguarded(onnx, item_shape), RunnerError::Onnx)
    }

    fn load_unguarded(onnx: &[u8], item_shape: &[usize]) -> Result<Self, RunnerError> {
        if onnx.len() > MAX_ONNX_BYTES {
            return Err(RunnerError::Onnx(format!(
                "it is {} MB; the limit is {} MB",
                onnx.len() >> 20,
                MAX_ONNX_BYTES >> 20
            )));
        }
        let onnx_error = |e: TractError| RunnerError::Onnx(format!("{e:#}"));
        let mut model = parse(onnx)?;
        if model.input_outlets().map_or(0, |i| i.len()) != 1 {
            return Err(RunnerError::Mismatch("the model must have exactly one input".into()));
        }
        check_declared_input(&model, item_shape)?;
        let shape: TVec<usize> = std::iter::once(1).chain(item_shape.iter().copied()).collect();
        model = model.with_input_fact(0, f32::fact(shape).into()).map_err(onnx_error)?;
        // The ONNX output names, taken before optimisation renames nodes (tract names outlets by node).
        let output_names: Vec<String> =
            model.output_outlets().map_err(onnx_error)?.iter().map(|o| model.node(o.node).name.clone()).collect();
        let typed = optimized(model).map_err(|e| RunnerError::Mismatch(format!("{e:#}")))?;
        let mut output_widths = Vec::new();
        for i in 0..output_names.len() {
            let fact = typed.output_fact(i).map_err(onnx_error)?;
            let width = match fact.shape.dims() {
                [_, last] => last.to_i64().ok().and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0),
                _ => None,
            }
            .ok_or_else(|| {
                RunnerError::Mismatch(format!("an output's shape is {:?}; expected [batch, width]", fact.shape))
            })?;
            output_widths.push(width);
        }
        let plan = typed.into_runnable().map_err(onnx_error)?;
        Ok(Self { plan, item_shape: item_shape.to_vec(), output_names, output_widths })
    }

    /// Values per item of the first output (the number of labels of a classifier).
    pub fn outputs(&self) -> usize {
        self.output_widths[0]
    }

    /// The outputs' names and widths, in order.
    pub fn output_layout(&self) -> impl Iterator<Item = (&str, usize)> {
        self.output_names.iter().map(String::as_str).zip(self.output_widths.iter().copied())
    }

    /// Values per input item.
    pub fn item_len(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// Runs one item; its outputs are `[1, width]`.
    fn run_one(&self, item: &[f32]) -> Result<TVec<TValue>, RunnerError> {
        let shape: Vec<usize> = std::iter::once(1).chain(self.item_shape.iter().copied()).collect();
        let tensor = Tensor::from_shape(&shape, item).map_err(|e| RunnerError::Inference(format!("{e:#}")))?;
        let plan = &self.plan;
        contain_panics(
            || plan.run(tvec!(tensor.into())).map_err(|e| RunnerError::Inference(format!("{e:#}"))),
            RunnerError::Inference,
        )
    }

    /// The `count` items laid out one after another in `inputs`.
    fn items<'a>(&self, inputs: &'a [f32], count: usize) -> impl Iterator<Item = &'a [f32]> {
        inputs[..count * self.item_len()].chunks_exact(self.item_len())
    }

    /// Runs `count` items laid out one after another in `inputs` and appends, item by item, every
    /// output's values to `out` (`count × Σ widths`). Natively the items are split over the
    /// calling thread and the inference threads (one tract state each); in WebAssembly they run
    /// on the worker's thread.
    pub fn run_into(&self, inputs: &[f32], count: usize, out: &mut Vec<f32>) -> Result<(), RunnerError> {
        #[cfg(not(target_arch = "wasm32"))]
        if count > 1 && super::inference_threads::available() > 1 {
            use super::inference_threads::{Part, split};
            let item = self.item_len();
            let per_part = count.div_ceil(super::inference_threads::available());
            let mut parts = inputs[..count * item].chunks(per_part * item);
            // The calling thread's part is read in place; the helpers' are copied to them.
            let first = parts.next().unwrap_or_default();
            let others = parts
                .map(|part| {
                    let (runner, part) = (self.clone(), part.to_vec());
                    Box::new(move || runner.rows(&part)) as Part<Result<Vec<f32>, RunnerError>>
                })
                .collect();
            for rows in split(|| self.rows(first), others) {
                let rows = rows.ok_or_else(|| RunnerError::Inference("an inference thread stopped".into()))?;
                out.extend_from_slice(&rows?);
            }
            return Ok(());
        }
        self.run_rows_into(inputs, count, out)
    }

    /// The outputs of the items laid out one after another in `inputs`, item by item.
    #[cfg(not(target_arch = "wasm32"))]
    fn rows(&self, inputs: &[f32]) -> Result<Vec<f32>, RunnerError> {
        let mut rows = Vec::new();
        self.run_rows_into(inputs, inputs.len() / self.item_len(), &mut rows).map(|()| rows)
    }

    /// [`OnnxRunner::run_into`] on the calling thread.
    fn run_rows_into(&self, inputs: &[f32], count: usize, out: &mut Vec<f32>) -> Result<(), RunnerError> {
        for item in self.items(inputs, count) {
            let result = self.run_one(item)?;
            for (tensor, &width) in result.iter().zip(&self.output_widths) {
                out.extend_from_slice(finite_rows(tensor, 1, width)?);
            }
        }
        Ok(())
    }

    /// Runs `count` items and appends `count × outputs` scores of the first output, turned into
    /// probabilities by `activation`, to `probabilities`.
    pub fn probabilities(
        &self,
        inputs: &[f32],
        count: usize,
        activation: Activation,
        probabilities: &mut Vec<f32>,
    ) -> Result<(), RunnerError> {
        for item in self.items(inputs, count) {
            let result = self.run_one(item)?;
            activation.apply_into(finite_rows(&result[0], 1, self.outputs())?, probabilities);
        }
        Ok(())
    }
}

/// Threads a batch is split over: the machine's cores natively (`MUSICAT_THREADS` overrides),
/// one in WebAssembly (the page's worker is single-threaded).
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *THREADS.get_or_init(|| {
            std::env::var("MUSICAT_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

/// Optimises a model the way every model here is run. tract's direct spatial convolution is
/// switched off: it takes musicnn's frequency-major front-end convolutions (output rows of 187
/// frames) and ran them at 115 ms per patch natively against 47 ms as im2col and a matrix
/// product (`examples/backbone_profile.rs`; wasm never picks it).
pub fn optimized(model: InferenceModel) -> TractResult<TypedModel> {
    let knobs = tract_onnx::tract_core::knobs::KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")])?;
    knobs.enter(|| model.into_optimized())
}

/// Parses ONNX bytes, refusing graphs that would make tract panic.
fn parse(onnx: &[u8]) -> Result<InferenceModel, RunnerError> {
    let framework = tract_onnx::onnx();
    let proto = framework
        .proto_model_for_read(&mut &onnx[..])
        .map_err(|e| RunnerError::Onnx(format!("it is not a valid ONNX file: {e:#}")))?;
    let graph = proto.graph.as_ref().ok_or_else(|| RunnerError::Onnx("it holds no graph".into()))?;
    check_graph(graph).map_err(RunnerError::Onnx)?;
    framework.model_for_proto_model(&proto).map_err(|e| RunnerError::Onnx(format!("{e:#}")))
}

/// Runs `f`, turning a panic inside tract into an error where panics can be caught (natively);
/// in WebAssembly a panic ends the worker, which the app restarts.
fn contain_panics<T>(
    f: impl FnOnce() -> Result<T, RunnerError>,
    error: fn(String) -> RunnerError,
) -> Result<T, RunnerError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err(error("tract failed on this model (it panicked)".into())))
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = error;
        f()
    }
}

/// The values of a `[count, width]` output, checked for size and for NaN or infinity.
fn finite_rows(tensor: &TValue, count: usize, width: usize) -> Result<&[f32], RunnerError> {
    let view = tensor.to_plain_array_view::<f32>().map_err(|e| RunnerError::Inference(format!("{e:#}")))?;
    let values = view.to_slice().ok_or_else(|| RunnerError::Inference("output is not contiguous".into()))?;
    if values.len() != count * width {
        return Err(RunnerError::Inference(format!("got {} values for {count} items of {width}", values.len())));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(RunnerError::Inference("the model produced NaN or infinite values".into()));
    }
    Ok(values)
}

/// Appends `softmax(logits)` to `out`.
pub fn softmax_into(logits: &[f32], out: &mut Vec<f32>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let start = out.len();
    out.extend(logits.iter().map(|&l| (l - max).exp()));
    let sum: f32 = out[start..].iter().sum();
    out[start..].iter_mut().for_each(|p| *p /= sum);
}

fn check_declared_input(model: &InferenceModel, item_shape: &[usize]) -> Result<(), RunnerError> {
    let Ok(fact) = model.input_fact(0) else { return Ok(()) };
    let declared: Vec<Option<i64>> = fact.shape.dims().map(|d| d.concretize().and_then(|d| d.to_i64().ok())).collect();
    if declared.is_empty() {
        return Ok(());
    }
    let axis_names: &[&str] = match item_shape.len() {
        3 => &["channels", "n_mels", "frames"],
        2 => &["frames", "n_mels"],
        _ => &["width"],
    };
    if declared.len() != item_shape.len() + 1 {
        return Err(RunnerError::Mismatch(format!(
            "the model's input has rank {}; expected {} ([batch, {}])",
            declared.len(),
            item_shape.len() + 1,
            axis_names.join(", ")
        )));
    }
    for (axis, (d, &want)) in declared[1..].iter().zip(item_shape).enumerate() {
        if let Some(d) = d
            && *d != want as i64
        {
            let name = axis_names.get(axis).copied().unwrap_or("a dimension");
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
    fn a_batch_split_over_threads_equals_items_run_one_by_one() {
        let onnx = include_bytes!("../../tests/models/fixture/genre.onnx");
        let runner = OnnxRunner::load(onnx, &[1, 128, 216]).unwrap();
        let item = runner.item_len();
        let count = 7;
        let inputs: Vec<f32> = (0..count * item).map(|i| ((i * 7919) % 1000) as f32 / 10.0 - 80.0).collect();
        let mut batched = Vec::new();
        runner.run_into(&inputs, count, &mut batched).unwrap();
        let mut one_by_one = Vec::new();
        for chunk in inputs.chunks_exact(item) {
            runner.run_rows_into(chunk, 1, &mut one_by_one).unwrap();
        }
        assert_eq!(batched.len(), one_by_one.len());
        assert!(batched.iter().zip(&one_by_one).all(|(a, b)| (a - b).abs() <= 1e-4 * (1.0 + b.abs())));
    }

    #[test]
    fn garbage_bytes_are_an_onnx_error() {
        let err = OnnxRunner::load(b"not an onnx model at all", &[1, 128, 216]).err().unwrap();
        assert!(matches!(err, RunnerError::Onnx(_)), "{err:?}");
    }
}
