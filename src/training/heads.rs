//! Heads on the pretrained musicnn backbone: its embeddings are computed once per file (and cached
//! on disk), then a small classifier is trained on them and exported as a head bundle that runs
//! behind the shared backbone in the CLI and the app.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Tensor, TensorData};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::evaluation::ConfusionMatrix;
use crate::model::Backbone;
use crate::model::sidecar::BackboneRef;

pub use super::embeddings::{Embedded, Extras, default_cache, embed_all, select};
use super::fit::{EpochScore, FitOptions, cosine_learning_rate, track_label};

/// The backbone outputs the first musicnn heads read: mean- and max-pooled front/mid-end features.
pub const DEFAULT_OUTPUTS: [&str; 2] = ["mean_pool", "max_pool"];

/// How a head is built and trained. Chosen by grouped cross-validation inside the training split
/// (see [`candidates`]), never by the validation split.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadConfig {
    /// Short name used in logs and the report.
    pub name: String,
    /// Backbone outputs concatenated as the head's input.
    pub outputs: Vec<String>,
    /// Width of the hidden ReLU layer (0: a linear head).
    pub hidden: usize,
    /// Dropout before each linear layer.
    pub dropout: f64,
    /// AdamW weight decay.
    pub weight_decay: f32,
    /// Label smoothing ε (targets `(1-ε)·one-hot + ε/K`).
    pub label_smoothing: f32,
    /// Embedding mixup: each example is blended with another, `(1-λ)·a + λ·b`, λ ∼ U(0, mixup).
    pub mixup: f32,
    /// Epochs, the whole cosine schedule (no early stopping: the last epoch's head is kept).
    pub epochs: usize,
    /// Also train on each file's end-aligned segment when the inference segments leave the end
    /// out (4 s sound clips: 0–2.976 s is seen, the last second is not).
    pub tail: bool,
    /// Also train on each file played 6% slower and faster ([`super::embeddings::COPY_SPEEDS`]).
    pub speed_copies: bool,
}

impl HeadConfig {
    /// The first shipped head: mean+max pool, batch norm, dropout 0.5, linear, weight decay 1e-2.
    pub fn linear(epochs: usize) -> Self {
        Self {
            name: "linear".into(),
            outputs: DEFAULT_OUTPUTS.iter().map(|s| s.to_string()).collect(),
            hidden: 0,
            dropout: 0.5,
            weight_decay: 1e-2,
            label_smoothing: 0.0,
            mixup: 0.0,
            epochs,
            tail: false,
            speed_copies: false,
        }
    }

    /// One line for the sidecar and the report.
    pub fn description(&self) -> String {
        let mut parts = vec![format!("{} → batch norm → dropout {}", self.outputs.join(" + "), self.dropout)];
        if self.hidden > 0 {
            parts.push(format!("dense {} + ReLU → dropout {}", self.hidden, self.dropout));
        }
        parts.push("linear".into());
        let mut training = format!("AdamW weight decay {}, {} epochs", self.weight_decay, self.epochs);
        if self.label_smoothing > 0.0 {
            training.push_str(&format!(", label smoothing {}", self.label_smoothing));
        }
        if self.mixup > 0.0 {
            training.push_str(&format!(", embedding mixup λ∼U(0,{})", self.mixup));
        }
        if self.tail {
            training.push_str(", plus each clip's end-aligned segment (training only)");
        }
        if self.speed_copies {
            training.push_str(", plus each file played 6% slower and faster (training only)");
        }
        format!("pretrained musicnn MSD backbone (frozen, shared) → {}; {training}", parts.join(" → "))
    }
}

/// Width of the candidates' hidden layer: 64 keeps a head near 0.4 MB (256 made 1.7 MB, past the
/// 4 MB budget of all shipped models together).
pub const HIDDEN_WIDTH: usize = 64;

/// The candidates the trainer compares by cross-validation: linear vs one hidden layer, with and
/// without the penultimate layer, with and without mixup + label smoothing (and, for each of
/// `tails` and `speeds`, with or without the uncovered tail segments and the speed-changed
/// copies in training).
pub fn candidates(epochs: usize, tails: &[bool], speeds: &[bool]) -> Vec<HeadConfig> {
    let mut all = Vec::new();
    for (&tail, &speed_copies) in tails.iter().flat_map(|t| speeds.iter().map(move |s| (t, s))) {
        for with_penultimate in [false, true] {
            for hidden in [0, HIDDEN_WIDTH] {
                for regularised in [false, true] {
                    let mut c = HeadConfig::linear(epochs);
                    if with_penultimate {
                        c.outputs.push("penultimate".into());
                    }
                    c.hidden = hidden;
                    c.tail = tail;
                    c.speed_copies = speed_copies;
                    if regularised {
                        c.label_smoothing = 0.1;
                        c.mixup = 0.4;
                    }
                    c.name = format!(
                        "{}{}{}{}{}",
                        if hidden > 0 { format!("mlp{hidden}") } else { "linear".into() },
                        if with_penultimate { "+pen" } else { "" },
                        if regularised { "+mix+ls" } else { "" },
                        if tail { "+tail" } else { "" },
                        if speed_copies { "+speeds" } else { "" }
                    );
                    all.push(c);
                }
            }
        }
    }
    all
}

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
    pub fn new(width: usize, hidden: usize, dropout: f64, labels: usize, device: &Device) -> Self {
        let last = if hidden > 0 { hidden } else { width };
        Self {
            norm: BatchNormConfig::new(width).init(device),
            dropout: DropoutConfig::new(dropout).init(),
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

/// Trains a head with `config` on `train` embeddings (class-balanced batches, cosine schedule
/// over `config.epochs`, the last epoch kept). `watch`, when given, is scored after every epoch
/// for the log only: it never decides anything.
pub fn fit_head(
    train: &[Embedded],
    watch: Option<&[Embedded]>,
    width: usize,
    labels: &[String],
    config: &HeadConfig,
    options: &FitOptions,
    verbose: bool,
) -> (Head, Vec<EpochScore>) {
    let device = Device::flex().autodiff();
    device.seed(options.seed);
    let count = labels.len();
    let mut model = Head::new(width, config.hidden, config.dropout, count, &device);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut optimizer = AdamWConfig::new().with_weight_decay(config.weight_decay).init();
    // Every training segment, indexed by label for balanced sampling.
    let mut by_label: Vec<Vec<(usize, usize, Rows)>> = vec![Vec::new(); count];
    for (f, file) in train.iter().enumerate() {
        for (rows, used) in [(Rows::Segments, true), (Rows::Tail, config.tail), (Rows::Copies, config.speed_copies)] {
            let n = if used { rows.of(file).len() / width } else { 0 };
            (0..n).for_each(|s| by_label[file.label].push((f, s, rows)));
        }
    }
    let present: Vec<usize> = (0..count).filter(|&l| !by_label[l].is_empty()).collect();
    let segments: usize = by_label.iter().map(Vec::len).sum();
    let steps = segments.div_ceil(options.batch).max(1);
    let schedule = FitOptions { epochs: config.epochs, ..options.clone() };
    let mut history = Vec::new();
    let batch = options.batch;
    let mut inputs = vec![0.0f32; batch * width];
    let mut targets = vec![0.0f32; batch * count];
    let off = config.label_smoothing / count as f32;
    let on = 1.0 - config.label_smoothing + off;
    let draw = |rng: &mut StdRng| {
        let label = present[rng.random_range(0..present.len())];
        let (f, s, rows) = by_label[label][rng.random_range(0..by_label[label].len())];
        (label, &rows.of(&train[f])[s * width..(s + 1) * width])
    };
    for epoch in 1..=config.epochs {
        let lr = cosine_learning_rate(&schedule, epoch);
        let mut loss_sum = 0.0;
        for _ in 0..steps {
            for slot in 0..batch {
                let (label, row) = draw(&mut rng);
                let x = &mut inputs[slot * width..(slot + 1) * width];
                x.copy_from_slice(row);
                let t = &mut targets[slot * count..(slot + 1) * count];
                t.fill(off);
                t[label] = on;
                if config.mixup > 0.0 {
                    let lambda = rng.random_range(0.0..config.mixup);
                    let (other, row) = draw(&mut rng);
                    x.iter_mut().zip(row).for_each(|(a, b)| *a = (1.0 - lambda) * *a + lambda * b);
                    t.iter_mut().for_each(|v| *v *= 1.0 - lambda);
                    t.iter_mut().for_each(|v| *v += lambda * off);
                    t[other] += lambda * (on - off);
                }
            }
            let x = Tensor::<2>::from_data(TensorData::new(inputs.clone(), [batch, width]), &device);
            let y = Tensor::<2>::from_data(TensorData::new(targets.clone(), [batch, count]), &device);
            let loss = (log_softmax(model.forward(x), 1) * y).sum_dim(1).mean().neg();
            loss_sum += loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
        }
        let (accuracy, macro_f1) = match watch {
            Some(files) => {
                let matrix = confusion(&model.valid(), files, width, labels);
                (matrix.accuracy(), matrix.macro_f1())
            }
            None => (f64::NAN, f64::NAN),
        };
        let score = EpochScore { epoch, loss: loss_sum / steps as f64, accuracy, macro_f1 };
        if verbose && watch.is_some() {
            eprintln!("epoch {epoch:>3}/{}: {}", config.epochs, score.summary());
        } else if verbose {
            eprintln!("epoch {epoch:>3}/{}: loss {:.3}", config.epochs, score.loss);
        }
        history.push(score);
    }
    (model.valid(), history)
}

/// Which of a file's rows a training segment comes from.
#[derive(Debug, Clone, Copy)]
enum Rows {
    Segments,
    Tail,
    Copies,
}

impl Rows {
    fn of(self, file: &Embedded) -> &[f32] {
        match self {
            Rows::Segments => &file.values,
            Rows::Tail => &file.extra,
            Rows::Copies => &file.copies,
        }
    }
}

/// Track-level confusion matrix (mean of segment probabilities per file) of `head`.
pub fn confusion(head: &Head, files: &[Embedded], width: usize, labels: &[String]) -> ConfusionMatrix {
    let device = Device::flex();
    let mut matrix = ConfusionMatrix::new(labels);
    for file in files.iter().filter(|f| !f.values.is_empty()) {
        let count = file.values.len() / width;
        let x = Tensor::<2>::from_data(TensorData::new(file.values.clone(), [count, width]), &device);
        matrix.add(file.label, track_label(head.forward(x)));
    }
    matrix
}

/// The fold (0..folds) of every file: groups are dealt to folds label by label (by each group's
/// most common label, in a fixed hashed order), so folds are grouped and roughly stratified.
pub fn group_folds(files: &[Embedded], folds: usize) -> Vec<usize> {
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    files.iter().for_each(|f| groups.entry(&f.group).or_default().push(f.label));
    let hash = |s: &str| s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let mut order: Vec<(usize, u64, &str)> = groups
        .iter()
        .map(|(g, labels)| {
            let mut counts = std::collections::BTreeMap::<usize, usize>::new();
            labels.iter().for_each(|&l| *counts.entry(l).or_default() += 1);
            let major = counts.iter().max_by_key(|(l, c)| (**c, std::cmp::Reverse(**l))).map_or(0, |(l, _)| *l);
            (major, hash(g), *g)
        })
        .collect();
    order.sort();
    let fold_of: std::collections::BTreeMap<&str, usize> =
        order.iter().enumerate().map(|(i, (_, _, g))| (*g, i % folds.max(1))).collect();
    files.iter().map(|f| fold_of[f.group.as_str()]).collect()
}

/// Grouped `folds`-fold cross-validation of `config` inside `files`: the pooled track-level
/// confusion matrix of every fold's held-out files.
pub fn cross_validate(
    files: &[Embedded],
    width: usize,
    labels: &[String],
    config: &HeadConfig,
    options: &FitOptions,
    folds: usize,
) -> ConfusionMatrix {
    let fold_of = group_folds(files, folds);
    let mut pooled = ConfusionMatrix::new(labels);
    for fold in 0..folds {
        let train: Vec<Embedded> =
            files.iter().zip(&fold_of).filter(|(_, f)| **f != fold).map(|(e, _)| e.clone()).collect();
        let held: Vec<Embedded> =
            files.iter().zip(&fold_of).filter(|(_, f)| **f == fold).map(|(e, _)| e.clone()).collect();
        if train.is_empty() || held.is_empty() {
            continue;
        }
        let (head, _) = fit_head(&train, None, width, labels, config, options, false);
        let matrix = confusion(&head, &held, width, labels);
        for (row, counts) in pooled.counts.iter_mut().zip(&matrix.counts) {
            row.iter_mut().zip(counts).for_each(|(a, b)| *a += b);
        }
    }
    pooled
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
pub fn backbone_ref(file: &str, outputs: &[String]) -> BackboneRef {
    BackboneRef { file: file.to_string(), outputs: outputs.to_vec() }
}

/// Loads the backbone ONNX at `path` for musicnn's front end.
pub fn load_backbone(path: &Path, file: &str) -> Result<Arc<Backbone>, String> {
    backbone_from_bytes(file, &read_backbone(path)?)
}

/// The backbone ONNX at `path` (named `file` in sidecars) and its default embedding cache.
pub fn open_backbone(path: &Path, file: &str) -> Result<(Arc<Backbone>, PathBuf), String> {
    let bytes = read_backbone(path)?;
    Ok((backbone_from_bytes(file, &bytes)?, default_cache(path, &bytes)))
}

/// The bytes of the backbone file at `path`.
pub fn read_backbone(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A backbone (named `file` in sidecars) from its ONNX bytes.
pub fn backbone_from_bytes(file: &str, bytes: &[u8]) -> Result<Arc<Backbone>, String> {
    Backbone::from_bytes(file, bytes, &crate::FeatureParams::musicnn()).map(Arc::new).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(label: usize, group: &str) -> Embedded {
        Embedded { label, group: group.into(), values: vec![0.0; 4], extra: Vec::new(), copies: Vec::new() }
    }

    #[test]
    fn folds_never_split_a_group_and_spread_each_label() {
        let files: Vec<Embedded> = (0..60).map(|i| file(i % 3, &format!("g{}", i / 2))).collect::<Vec<_>>();
        let folds = group_folds(&files, 5);
        for (a, b) in files.iter().zip(&folds) {
            for (c, d) in files.iter().zip(&folds) {
                assert!(a.group != c.group || b == d, "group {} split", a.group);
            }
        }
        for fold in 0..5 {
            assert!(folds.iter().filter(|f| **f == fold).count() >= 8, "fold {fold} too small");
        }
    }

    #[test]
    fn candidates_have_unique_names_and_start_with_the_first_head() {
        let all = candidates(10, &[false, true], &[false, true]);
        assert_eq!(all.len(), 32);
        assert_eq!(all[0], HeadConfig::linear(10));
        let mut names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 32);
    }
}
