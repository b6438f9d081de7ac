//! The training loop: class-balanced batches of augmented crops, AdamW with a cosine schedule,
//! early stopping on the validation split's track-level macro-F1.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::evaluation::ConfusionMatrix;

use super::clips::{Clip, InputMaker};
use super::net::Classifier;

/// Settings of one training run.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Maximum epochs.
    pub epochs: usize,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Examples per batch.
    pub batch: usize,
    /// Random crops drawn per training clip and epoch.
    pub crops_per_clip: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Seed of initialisation, sampling and augmentation.
    pub seed: u64,
}

/// Validation inputs: every inference segment of every validation clip.
pub struct ValidationSet {
    inputs: Vec<f32>,
    /// (label, number of segments) per clip, in order.
    clips: Vec<(usize, usize)>,
}

impl ValidationSet {
    /// Cuts the validation clips exactly as the inference path does.
    pub fn new(clips: &[Clip], maker: &mut InputMaker) -> Self {
        let mut inputs = Vec::new();
        let clips = clips.iter().map(|c| (c.label, maker.segments(&c.samples, &mut inputs))).collect();
        Self { inputs, clips }
    }
}

/// What one epoch measured on the validation split.
#[derive(Debug, Clone, Copy)]
pub struct EpochScore {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Track-level accuracy (mean of segment probabilities).
    pub accuracy: f64,
    /// Track-level macro-F1.
    pub macro_f1: f64,
}

/// Trains `model`; returns the best model (on the plain device, inference mode) and the history.
pub fn fit<M: Classifier>(
    mut model: M,
    clips: &[Clip],
    validation: &ValidationSet,
    maker: &mut InputMaker,
    labels: &[String],
    options: &FitOptions,
    device: &Device,
) -> (M, Vec<EpochScore>) {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut optimizer = AdamWConfig::new().with_weight_decay(1e-3).init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let by_label: Vec<Vec<usize>> = (0..labels.len())
        .map(|l| clips.iter().enumerate().filter(|(_, c)| c.label == l).map(|(i, _)| i).collect())
        .collect();
    let present: Vec<usize> = (0..labels.len()).filter(|&l| !by_label[l].is_empty()).collect();
    let item = maker.item_len();
    let params_shape = maker.shape();
    let steps = (clips.len() * options.crops_per_clip).div_ceil(options.batch).max(1);
    let mut best = BestEpoch::new(options.patience);
    let mut history = Vec::new();
    let mut inputs = vec![0.0f32; options.batch * item];
    for epoch in 1..=options.epochs {
        let lr = cosine_learning_rate(options, epoch);
        let bar = progress(steps, epoch, options.epochs);
        let mut loss_sum = 0.0;
        for _ in 0..steps {
            let mut targets = Vec::with_capacity(options.batch);
            for slot in 0..options.batch {
                let label = present[rng.random_range(0..present.len())];
                let clip = &clips[by_label[label][rng.random_range(0..by_label[label].len())]];
                maker.augmented(&clip.samples, &mut rng, &mut inputs[slot * item..(slot + 1) * item]);
                targets.push(label as i64);
            }
            let x = Tensor::<4>::from_data(
                TensorData::new(inputs.clone(), batch_shape(options.batch, params_shape)),
                device,
            );
            let y = Tensor::<1, Int>::from_data(TensorData::new(targets, [options.batch]), device);
            let loss = loss_fn.forward(model.forward(x), y);
            let value = loss.clone().into_scalar::<f32>() as f64;
            loss_sum += value;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            bar.inc(1);
            bar.set_message(format!("loss {value:.3}"));
        }
        let (accuracy, macro_f1) = evaluate(&model.valid(), validation, labels, params_shape);
        let score = EpochScore { epoch, loss: loss_sum / steps as f64, accuracy, macro_f1 };
        let summary = score.summary();
        if bar.is_hidden() {
            eprintln!("epoch {epoch:>2}/{}: {summary}", options.epochs);
        }
        bar.finish_with_message(summary);
        history.push(score);
        // `valid()` snapshots the batch-norm running statistics; a plain clone would share them
        // with the model still training.
        if best.record(score, || model.valid()) {
            break;
        }
    }
    (best.into_model(|| model.valid()), history)
}

impl EpochScore {
    /// One line for the console: loss and the validation figures.
    pub fn summary(&self) -> String {
        format!(
            "loss {:.3}  validation: track accuracy {:.1}%  macro-F1 {:.3}",
            self.loss,
            self.accuracy * 100.0,
            self.macro_f1
        )
    }
}

/// The learning rate of `epoch` (from 1): cosine decay from the peak over the planned epochs.
pub fn cosine_learning_rate(options: &FitOptions, epoch: usize) -> f64 {
    options.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * (epoch - 1) as f64 / options.epochs as f64).cos())
}

/// Keeps the model of the best epoch (validation macro-F1, then accuracy) and says when to stop.
pub struct BestEpoch<M> {
    best: Option<(M, EpochScore)>,
    patience: usize,
}

impl<M> BestEpoch<M> {
    /// Nothing kept yet; stop after `patience` epochs without improvement.
    pub fn new(patience: usize) -> Self {
        Self { best: None, patience }
    }

    /// Records an epoch's score, taking `snapshot()` when it is the best so far; true when
    /// training should stop.
    pub fn record(&mut self, score: EpochScore, snapshot: impl FnOnce() -> M) -> bool {
        let improved =
            self.best.as_ref().is_none_or(|(_, b)| (score.macro_f1, score.accuracy) > (b.macro_f1, b.accuracy));
        if improved {
            self.best = Some((snapshot(), score));
            false
        } else if self.best.as_ref().is_some_and(|(_, b)| score.epoch - b.epoch >= self.patience) {
            eprintln!("early stop: no better macro-F1 for {} epochs", self.patience);
            true
        } else {
            false
        }
    }

    /// The best model, or `last()` when no epoch ran.
    pub fn into_model(self, last: impl FnOnce() -> M) -> M {
        self.best.map_or_else(last, |(m, _)| m)
    }
}

/// The label a track gets from its segments' logits `[segments, labels]`: the most probable
/// one after averaging the segments' softmax, as the inference path does.
pub fn track_label(logits: Tensor<2>) -> usize {
    let mean: Vec<f32> = softmax(logits, 1).mean_dim(0).into_data().try_to_vec::<f32>().unwrap_or_default();
    mean.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// Track-level accuracy and macro-F1 of `model` on the validation set (burn's forward pass).
pub fn evaluate<M: Classifier>(model: &M, set: &ValidationSet, labels: &[String], shape: [usize; 3]) -> (f64, f64) {
    let device = Device::flex();
    let item: usize = shape.iter().product();
    let mut matrix = ConfusionMatrix::new(labels);
    let mut offset = 0;
    for &(label, count) in &set.clips {
        if count == 0 {
            continue;
        }
        let data = set.inputs[offset * item..(offset + count) * item].to_vec();
        offset += count;
        let x = Tensor::<4>::from_data(TensorData::new(data, batch_shape(count, shape)), &device);
        matrix.add(label, track_label(model.forward(x)));
    }
    (matrix.accuracy(), matrix.macro_f1())
}

fn batch_shape(batch: usize, [c, m, f]: [usize; 3]) -> [usize; 4] {
    [batch, c, m, f]
}

fn progress(steps: usize, epoch: usize, epochs: usize) -> ProgressBar {
    let bar = ProgressBar::new(steps as u64);
    if let Ok(style) = ProgressStyle::with_template("epoch {prefix} {bar:25} {pos}/{len} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.set_prefix(format!("{epoch:>2}/{epochs}"));
    bar
}
