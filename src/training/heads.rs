//! Heads on the pretrained musicnn backbone: its embeddings are computed once per file (and cached
//! on disk), then a small classifier is trained on them and exported as a head bundle that runs
//! behind the shared backbone in the CLI and the app.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::audio::{AudioStream, read_all};
use crate::evaluation::ConfusionMatrix;
use crate::model::Backbone;
use crate::model::sidecar::BackboneRef;

use super::clips::InputMaker;
use super::dataset::{Dataset, Example};
use super::fit::{BestEpoch, EpochScore, FitOptions, cosine_learning_rate, track_label};

/// The backbone outputs a head reads: musicnn's mean- and max-pooled front/mid-end features.
pub const EMBEDDING_OUTPUTS: [&str; 2] = ["mean_pool", "max_pool"];

/// Width of the hidden layer (0: a linear head).
pub const HIDDEN: usize = 0;

/// A small classifier on embeddings: batch norm (learned standardisation), dropout, linear
/// (or one hidden ReLU layer when `hidden` is set).
#[derive(Module, Debug)]
pub struct Head {
    norm: BatchNorm,
    dropout: Dropout,
    hidden: Option<Linear>,
    output: Linear,
}

impl Head {
    /// A freshly initialised head from `width` inputs to `labels` logits.
    pub fn new(width: usize, hidden: usize, labels: usize, device: &Device) -> Self {
        let last = if hidden > 0 { hidden } else { width };
        Self {
            norm: BatchNormConfig::new(width).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            hidden: (hidden > 0).then(|| LinearConfig::new(width, hidden).init(device)),
            output: LinearConfig::new(last, labels).init(device),
        }
    }

    /// Logits for `[batch, width]` embeddings.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x: Tensor<2> = self.norm.forward(x.unsqueeze_dim::<3>(2)).squeeze_dim(2);
        let x = self.dropout.forward(x);
        let x = match &self.hidden {
            Some(layer) => self.dropout.forward(relu(layer.forward(x))),
            None => x,
        };
        self.output.forward(x)
    }
}

/// Embeddings of one file's segments.
pub struct Embedded {
    /// Label index.
    pub label: usize,
    /// `segments × width` values.
    pub values: Vec<f32>,
}

/// Computes (or reads from `cache`) the embeddings of every example, in order; files that fail
/// to decode are skipped with a warning.
pub fn embed_all(
    examples: &[&Example],
    backbone: &Backbone,
    cache: &Path,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<Embedded>, String> {
    let outputs: Vec<String> = EMBEDDING_OUTPUTS.iter().map(|s| s.to_string()).collect();
    let ranges = backbone.ranges(&outputs)?;
    let width: usize = ranges.iter().map(|r| r.len()).sum();
    std::fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let mut maker = InputMaker::new(backbone.features());
    let item = maker.item_len();
    let (mut mels, mut raw) = (Vec::new(), Vec::new());
    let mut all = Vec::with_capacity(examples.len());
    for (i, example) in examples.iter().enumerate() {
        let file = cache.join(cache_name(&example.path, width));
        if let Ok(bytes) = std::fs::read(&file) {
            let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            all.push(Embedded { label: example.label, values });
            continue;
        }
        let decoded = AudioStream::open_file(&example.path).and_then(|s| read_all(s, backbone.features().sample_rate));
        let samples = match decoded {
            Ok(samples) => samples,
            Err(err) => {
                warn(format!("skipping {}: {err}", example.path.display()));
                continue;
            }
        };
        mels.clear();
        let count = maker.segments(&samples, &mut mels);
        let mut values = Vec::with_capacity(count * width);
        for start in (0..count).step_by(crate::analyze::BATCH) {
            let n = crate::analyze::BATCH.min(count - start);
            raw.clear();
            backbone
                .runner()
                .run_into(&mels[start * item..(start + n) * item], n, &mut raw)
                .map_err(|e| format!("backbone on {}: {e:?}", example.path.display()))?;
            for row in raw.chunks_exact(backbone.width()) {
                ranges.iter().for_each(|r| values.extend_from_slice(&row[r.clone()]));
            }
        }
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&file, bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        all.push(Embedded { label: example.label, values });
        if (i + 1) % 100 == 0 {
            eprintln!("embedded {}/{} files", i + 1, examples.len());
        }
    }
    Ok(all)
}

/// A cache file name unique to the audio file (path, size, modification time) and the width.
fn cache_name(path: &Path, width: usize) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    if let Ok(meta) = std::fs::metadata(path) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    width.hash(&mut hasher);
    format!("{:016x}.f32", hasher.finish())
}

/// The default embedding cache: `$HOME/.cache/musicat/embeddings/<backbone file stem>`.
pub fn default_cache(backbone_file: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let stem = backbone_file.file_stem().map_or_else(|| "backbone".into(), |s| s.to_string_lossy().into_owned());
    home.join(".cache/musicat/embeddings").join(stem)
}

/// Trains a head on `train` embeddings with class-balanced batches, early stopping on the
/// track-level macro-F1 of `validation`; returns the best head and the history.
pub fn fit_head(
    train: &[Embedded],
    validation: &[Embedded],
    width: usize,
    dataset: &Dataset,
    options: &FitOptions,
) -> (Head, Vec<EpochScore>) {
    let device = Device::flex().autodiff();
    device.seed(options.seed);
    let labels = dataset.labels.len();
    let mut model = Head::new(width, HIDDEN, labels, &device);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut optimizer = AdamWConfig::new().with_weight_decay(1e-2).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    // Every training segment, indexed by label for balanced sampling.
    let mut by_label: Vec<Vec<(usize, usize)>> = vec![Vec::new(); labels];
    for (f, file) in train.iter().enumerate() {
        (0..file.values.len() / width).for_each(|s| by_label[file.label].push((f, s)));
    }
    let present: Vec<usize> = (0..labels).filter(|&l| !by_label[l].is_empty()).collect();
    let segments: usize = by_label.iter().map(Vec::len).sum();
    let steps = segments.div_ceil(options.batch).max(1);
    let mut best = BestEpoch::new(options.patience);
    let mut history = Vec::new();
    let mut inputs = vec![0.0f32; options.batch * width];
    for epoch in 1..=options.epochs {
        let lr = cosine_learning_rate(options, epoch);
        let mut loss_sum = 0.0;
        for _ in 0..steps {
            let mut targets = Vec::with_capacity(options.batch);
            for slot in 0..options.batch {
                let label = present[rng.random_range(0..present.len())];
                let (f, s) = by_label[label][rng.random_range(0..by_label[label].len())];
                inputs[slot * width..(slot + 1) * width].copy_from_slice(&train[f].values[s * width..(s + 1) * width]);
                targets.push(label as i64);
            }
            let x = Tensor::<2>::from_data(TensorData::new(inputs.clone(), [options.batch, width]), &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(targets, [options.batch]), &device);
            let loss = loss_fn.forward(model.forward(x), y);
            loss_sum += loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
        }
        let (accuracy, macro_f1) = evaluate_head(&model.valid(), validation, width, &dataset.labels);
        let score = EpochScore { epoch, loss: loss_sum / steps as f64, accuracy, macro_f1 };
        eprintln!("epoch {epoch:>3}/{}: {}", options.epochs, score.summary());
        history.push(score);
        if best.record(score, || model.valid()) {
            break;
        }
    }
    (best.into_model(|| model.valid()), history)
}

/// Track-level accuracy and macro-F1 (mean of segment probabilities per file) of `head`.
fn evaluate_head(head: &Head, files: &[Embedded], width: usize, labels: &[String]) -> (f64, f64) {
    let device = Device::flex();
    let mut matrix = ConfusionMatrix::new(labels);
    for file in files.iter().filter(|f| !f.values.is_empty()) {
        let count = file.values.len() / width;
        let x = Tensor::<2>::from_data(TensorData::new(file.values.clone(), [count, width]), &device);
        matrix.add(file.label, track_label(head.forward(x)));
    }
    (matrix.accuracy(), matrix.macro_f1())
}

/// ONNX bytes of `head` for `[batch, width]` inputs.
pub fn head_to_onnx(head: &Head, width: usize) -> Result<Vec<u8>, String> {
    let device = Device::flex();
    let sample = Tensor::<2>::zeros([2, width], &device);
    let validation = Tensor::<2>::zeros([3, width], &device);
    let specs = [InputSpec::new([AxisSpec::dynamic("batch"), AxisSpec::Static])];
    let onnx = OnnxExporter::new()
        .export_dynamic(head, sample, validation, &specs, |m: &Head, x: Tensor<2>| m.forward(x))
        .map_err(|e| format!("ONNX export failed: {e}"))?;
    Ok(onnx.as_bytes().to_vec())
}

/// The sidecar's reference to the backbone, relative to the models folder.
pub fn backbone_ref(file: &str) -> BackboneRef {
    BackboneRef { file: file.to_string(), outputs: EMBEDDING_OUTPUTS.iter().map(|s| s.to_string()).collect() }
}

/// Loads the backbone ONNX at `path` for musicnn's front end.
pub fn load_backbone(path: &Path, file: &str) -> Result<Arc<Backbone>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Backbone::from_bytes(file, &bytes, &crate::FeatureParams::musicnn()).map(Arc::new).map_err(|e| e.to_string())
}
