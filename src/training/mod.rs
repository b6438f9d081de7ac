//! The native trainer (feature `train`): datasets, networks, the training loop, ONNX export,
//! evaluation through the inference path, and the models report.

pub mod backbone_copy;
pub mod backbone_report;
pub mod clips;
pub mod confusion_png;
pub mod dataset;
pub mod embeddings;
pub mod export;
pub mod fit;
pub mod heads;
pub mod net;
pub mod report;
pub mod speed_report;

use std::path::Path;
use std::time::Instant;

use burn::module::Module as _;
use burn::tensor::Device;
use serde_json::json;

use crate::model::Sidecar;
use crate::model::sidecar::{BackboneRef, FORMAT_VERSION};

use clips::InputMaker;
use dataset::Dataset;
use export::PathMetrics;
use fit::{EpochScore, FitOptions, ValidationSet};
use net::{Classifier, Cnn, SeedCnn};

/// Which network to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Conv blocks with batch norm, global average pooling, dropout (the default).
    Cnn,
    /// The original system's 2-conv, flatten, 2-dense network.
    Seed,
    /// A head on the frozen, pretrained musicnn backbone.
    MusicnnHead,
}

impl Architecture {
    /// Name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Cnn => "cnn",
            Architecture::Seed => "seed",
            Architecture::MusicnnHead => "musicnn-head",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Architecture::Cnn => {
                "4 × (conv 3×3 → batch norm → ReLU → max pool 2×2), 16-32-64-128 channels, global average pool, dropout 0.3, linear"
            }
            Architecture::Seed => {
                "conv 3×3 (16) → ReLU → max pool 4×4 → conv 3×3 (32) → ReLU → max pool 4×4 → flatten → dense 64 → dense"
            }
            Architecture::MusicnnHead => {
                "pretrained musicnn MSD backbone (frozen, shared) → mean_pool + max_pool (1506) → batch norm → dropout 0.5 → linear"
            }
        }
    }
}

/// One trained and evaluated network.
pub struct Trained {
    /// Its architecture.
    pub architecture: Architecture,
    /// ONNX bytes.
    pub onnx: Vec<u8>,
    /// Trainable values.
    pub parameters: usize,
    /// Metrics through the inference path.
    pub metrics: PathMetrics,
    /// Per-epoch validation scores (burn's forward pass).
    pub history: Vec<EpochScore>,
    /// Wall-clock training time.
    pub seconds: f64,
    /// The backbone it is a head on, if any.
    pub backbone: Option<BackboneRef>,
    /// The network, when more specific than the architecture's description (a head's configuration).
    pub description: Option<String>,
    /// How its configuration was chosen (cross-validation scores), or null.
    pub selection: serde_json::Value,
}

/// Trains one architecture on `dataset` and evaluates the exported ONNX on the validation split.
pub fn train(dataset: &Dataset, architecture: Architecture, options: &FitOptions) -> Result<Trained, String> {
    let device = Device::flex().autodiff();
    device.seed(options.seed);
    let params = &dataset.features;
    let mut warn = |message: String| eprintln!("warning: {message}");
    let (train_examples, validation_examples) = splits(dataset)?;
    eprintln!("decoding {} training and {} validation files…", train_examples.len(), validation_examples.len());
    let train_clips = clips::load(&train_examples, params, &mut warn);
    let validation_clips = clips::load(&validation_examples, params, &mut warn);
    let mut maker = InputMaker::new(params);
    let validation = ValidationSet::new(&validation_clips, &mut maker);
    let shape = params.image_shape();
    let labels = dataset.labels.len();
    let started = Instant::now();
    let (onnx, parameters, history) = match architecture {
        Architecture::Cnn => {
            let model = Cnn::new(labels, &device);
            run(model, &train_clips, &validation, &mut maker, dataset, options, &device, shape)?
        }
        Architecture::Seed => {
            let model = SeedCnn::new(labels, shape[1], shape[2], &device);
            run(model, &train_clips, &validation, &mut maker, dataset, options, &device, shape)?
        }
        Architecture::MusicnnHead => return Err("a musicnn head is trained with `train_head`".into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let sidecar = sidecar(dataset, serde_json::Value::Null, None);
    let metrics = export::evaluate_bundle(&onnx, &sidecar, &validation_examples, None)?;
    Ok(Trained {
        architecture,
        onnx,
        parameters,
        metrics,
        history,
        seconds,
        backbone: None,
        description: None,
        selection: serde_json::Value::Null,
    })
}

/// One head configuration's grouped cross-validation score inside the training split.
#[derive(Debug, Clone)]
pub struct CvScore {
    /// The configuration.
    pub config: heads::HeadConfig,
    /// Pooled track-level accuracy over the held-out folds.
    pub accuracy: f64,
    /// Pooled track-level macro-F1 over the held-out folds.
    pub macro_f1: f64,
}

/// Trains a head on the musicnn backbone at `backbone_path` (named `backbone_file` in the
/// sidecar, relative to the models folder) and evaluates the bundle through the inference path.
///
/// With `folds` ≥ 2 and several `candidates`, each candidate is scored by grouped `folds`-fold
/// cross-validation inside the training split and the best (pooled macro-F1, then accuracy) is
/// trained on the whole training split; the validation split is only measured, once, at the end.
pub fn train_head(
    dataset: &Dataset,
    backbone_path: &Path,
    backbone_file: &str,
    options: &FitOptions,
    candidates: &[heads::HeadConfig],
    folds: usize,
) -> Result<Trained, String> {
    let (backbone, cache) = heads::open_backbone(backbone_path, backbone_file)?;
    let mut warn = |message: String| eprintln!("warning: {message}");
    let (train_examples, validation_examples) = splits(dataset)?;
    let first = candidates.first().ok_or("no head configuration to train")?;
    let started = Instant::now();
    eprintln!(
        "embedding {} training and {} validation files (cache {})…",
        train_examples.len(),
        validation_examples.len(),
        cache.display()
    );
    let extras = heads::Extras {
        tail: candidates.iter().any(|c| c.tail),
        speed_copies: candidates.iter().any(|c| c.speed_copies),
    };
    let train = heads::embed_all(&train_examples, &backbone, &cache, extras, &mut warn)?;
    let mut scores = Vec::new();
    let chosen = if candidates.len() > 1 && folds >= 2 {
        for config in candidates {
            let (files, width) = heads::select(&train, &backbone, &config.outputs)?;
            let matrix = heads::cross_validate(&files, width, &dataset.labels, config, options, folds);
            let score = CvScore { config: config.clone(), accuracy: matrix.accuracy(), macro_f1: matrix.macro_f1() };
            eprintln!(
                "cv {folds}-fold {:<24} track accuracy {:.1}%  macro-F1 {:.3}",
                config.name,
                score.accuracy * 100.0,
                score.macro_f1
            );
            scores.push(score);
        }
        let best = scores.iter().max_by(|a, b| {
            (a.macro_f1, a.accuracy).partial_cmp(&(b.macro_f1, b.accuracy)).unwrap_or(std::cmp::Ordering::Equal)
        });
        best.map_or_else(|| first.clone(), |b| b.config.clone())
    } else {
        first.clone()
    };
    eprintln!("training `{}` on the whole training split: {}", chosen.name, chosen.description());
    let (files, width) = heads::select(&train, &backbone, &chosen.outputs)?;
    let (head, history) = heads::fit_head(&files, None, width, &dataset.labels, &chosen, options, true);
    let onnx = heads::head_to_onnx(&head, width)?;
    let seconds = started.elapsed().as_secs_f64();
    let reference = heads::backbone_ref(backbone_file, &chosen.outputs);
    let sidecar = sidecar(dataset, serde_json::Value::Null, Some(reference.clone()));
    let metrics = export::evaluate_bundle(&onnx, &sidecar, &validation_examples, Some(backbone))?;
    let parameters = head.num_params();
    let selection = json!({
        "head": chosen.name,
        "folds": if scores.is_empty() { 0 } else { folds },
        "rule": "grouped k-fold cross-validation inside the training split (same grouping as the validation split); best pooled track macro-F1, then accuracy; the validation split is measured once, after the choice",
        "candidates": scores.iter().map(|s| json!({
            "head": s.config.name,
            "description": s.config.description(),
            "cv_track_accuracy": s.accuracy,
            "cv_track_macro_f1": s.macro_f1,
        })).collect::<Vec<_>>(),
    });
    Ok(Trained {
        architecture: Architecture::MusicnnHead,
        onnx,
        parameters,
        metrics,
        history,
        seconds,
        backbone: Some(reference),
        description: Some(chosen.description()),
        selection,
    })
}

/// The training and validation examples, or an error when either is empty.
fn splits(dataset: &Dataset) -> Result<(Vec<&dataset::Example>, Vec<&dataset::Example>), String> {
    let (train, validation) = (dataset.split(false), dataset.split(true));
    if train.is_empty() || validation.is_empty() {
        return Err(format!("task `{}`: the split left no training or no validation examples", dataset.task));
    }
    Ok((train, validation))
}

#[allow(clippy::too_many_arguments)]
fn run<M: Classifier>(
    model: M,
    clips: &[clips::Clip],
    validation: &ValidationSet,
    maker: &mut InputMaker,
    dataset: &Dataset,
    options: &FitOptions,
    device: &Device,
    shape: [usize; 3],
) -> Result<(Vec<u8>, usize, Vec<EpochScore>), String> {
    let parameters = model.num_params();
    let (best, history) = fit::fit(model, clips, validation, maker, &dataset.labels, options, device);
    Ok((export::to_onnx(&best, shape)?, parameters, history))
}

/// The sidecar of a bundle trained on `dataset` (a head on `backbone`, if given).
pub fn sidecar(dataset: &Dataset, metrics: serde_json::Value, backbone: Option<BackboneRef>) -> Sidecar {
    Sidecar {
        format_version: FORMAT_VERSION,
        task: dataset.task.clone(),
        labels: dataset.labels.clone(),
        features: dataset.features.clone(),
        input_shape: dataset.features.input_shape(),
        backbone,
        activation: Default::default(),
        trained_on: json!({
            "split": dataset.split_rule,
            "notes": dataset.notes,
            "train_counts": counts(dataset, false),
            "validation_counts": counts(dataset, true),
        }),
        metrics,
        label_details: dataset.label_details.clone(),
    }
}

fn counts(dataset: &Dataset, validation: bool) -> serde_json::Value {
    dataset
        .labels
        .iter()
        .cloned()
        .zip(dataset.counts(validation))
        .map(|(l, c)| (l, json!(c)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The metrics object stored in the sidecar for one trained network.
pub fn metrics_json(trained: &Trained, options: &FitOptions) -> serde_json::Value {
    let m = &trained.metrics;
    let best = trained.history.iter().filter(|s| s.macro_f1.is_finite()).max_by(|a, b| {
        (a.macro_f1, a.accuracy).partial_cmp(&(b.macro_f1, b.accuracy)).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out = json!({
        "architecture": trained.architecture.name(),
        "description": trained.description.clone().unwrap_or_else(|| trained.architecture.description().to_string()),
        "parameters": trained.parameters,
        "onnx_bytes": trained.onnx.len(),
        "train_seconds": trained.seconds.round(),
        "epochs_run": trained.history.len(),
        "best_epoch": best.map(|b| b.epoch),
        "seed": options.seed,
        "selection": trained.selection,
    });
    merge_path_metrics(&mut out, m);
    out
}

/// Writes the validation figures of `m` into a metrics object (replacing earlier ones).
pub fn merge_path_metrics(metrics: &mut serde_json::Value, m: &PathMetrics) {
    let figures = json!({
        "track_accuracy": m.track.accuracy(),
        "track_macro_f1": m.track.macro_f1(),
        "segment_accuracy": m.segment.accuracy(),
        "segment_macro_f1": m.segment.macro_f1(),
        "validation_tracks": m.track.total(),
        "validation_segments": m.segment.total(),
        "unreadable_files": m.failures,
        "track_confusion": m.track,
    });
    for (key, value) in figures.as_object().into_iter().flatten() {
        metrics[key] = value.clone();
    }
}

/// Reads the sidecar of `task`'s bundle in `out`.
fn read_sidecar(out: &Path, task: &str) -> Result<(std::path::PathBuf, Sidecar), String> {
    let path = out.join(format!("{task}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let sidecar = Sidecar::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, sidecar))
}

/// The sidecar of the bundle already in `out` for `dataset`'s task, refused if its labels are not
/// the task's (then its figures would be measured against the wrong truth).
fn read_task_sidecar(dataset: &Dataset, out: &Path) -> Result<(std::path::PathBuf, Sidecar), String> {
    let (path, sidecar) = read_sidecar(out, &dataset.task)?;
    if sidecar.labels != dataset.labels {
        return Err(format!("{}: its labels are not this task's: train the task again", path.display()));
    }
    Ok((path, sidecar))
}

/// Measures the bundle already in `out` for this task again on its validation split, through
/// the inference path (e.g. after its backbone file was rebuilt), and stores the new figures in
/// its sidecar with the previous track accuracy and `command` beside them. Returns the previous
/// and the new track accuracy.
pub fn remeasure(dataset: &Dataset, out: &Path, command: &str) -> Result<(f64, f64), String> {
    let (path, mut sidecar) = read_task_sidecar(dataset, out)?;
    let onnx_path = path.with_extension("onnx");
    let onnx = std::fs::read(&onnx_path).map_err(|e| format!("cannot read {}: {e}", onnx_path.display()))?;
    let backbone = match &sidecar.backbone {
        Some(b) => Some(heads::load_backbone(&out.join(&b.file), &b.file)?),
        None => None,
    };
    let (_, validation) = splits(dataset)?;
    eprintln!("measuring {} on {} validation files…", path.display(), validation.len());
    let m = export::evaluate_bundle(&onnx, &sidecar, &validation, backbone)?;
    let v = &mut sidecar.metrics["validation"];
    let previous = v["track_accuracy"].as_f64().unwrap_or(f64::NAN);
    let mut history = v["remeasured"].as_array().cloned().unwrap_or_default();
    history.push(json!({ "command": command, "previous_track_accuracy": previous }));
    merge_path_metrics(v, &m);
    v["remeasured"] = json!(history);
    export::write_sidecar(&path, &sidecar)?;
    Ok((previous, m.track.accuracy()))
}

/// Measures the network of the musicnn head already in `out` for this task by grouped
/// `folds`-fold cross-validation over *all* its examples (each track held out once, grouped as
/// the validation split is: artist, song), a steadier figure than a small validation split.
/// Each fold trains the same head (the configuration chosen for it, else the linear head on its
/// backbone outputs; with `speed_copies`, also trained on the speed-changed copies) for a fixed `options.epochs`; the pooled track-level figures go into the sidecar as `cv_all`, with
/// `command`. Returns the pooled track accuracy and macro-F1.
pub fn cv_all(
    dataset: &Dataset,
    out: &Path,
    folds: usize,
    options: &FitOptions,
    speed_copies: bool,
    command: &str,
) -> Result<(f64, f64), String> {
    let (path, mut sidecar) = read_task_sidecar(dataset, out)?;
    let reference = sidecar.backbone.clone().ok_or_else(|| format!("{}: not a head on a backbone", path.display()))?;
    let (backbone, cache) = heads::open_backbone(&out.join(&reference.file), &reference.file)?;
    // The head's configuration as cross-validation chose it when it was trained (the first
    // heads, trained before that, are the linear head on the outputs their sidecar names).
    let chosen = sidecar.metrics["validation"]["selection"]["head"].as_str().and_then(|name| {
        heads::candidates(options.epochs, &[false, true], &[false, true]).into_iter().find(|c| c.name == name)
    });
    let mut config = chosen.unwrap_or_else(|| heads::HeadConfig {
        outputs: reference.outputs.clone(),
        ..heads::HeadConfig::linear(options.epochs)
    });
    config.speed_copies |= speed_copies;
    let examples: Vec<&dataset::Example> = dataset.examples.iter().collect();
    let mut warn = |message: String| eprintln!("warning: {message}");
    let extras = heads::Extras { tail: config.tail, speed_copies: config.speed_copies };
    let embedded = heads::embed_all(&examples, &backbone, &cache, extras, &mut warn)?;
    let (files, width) = heads::select(&embedded, &backbone, &config.outputs)?;
    eprintln!("{folds}-fold cross-validation over all {} files: {}", files.len(), config.description());
    let matrix = heads::cross_validate(&files, width, &dataset.labels, &config, options, folds);
    let (accuracy, f1) = (matrix.accuracy(), matrix.macro_f1());
    sidecar.metrics["cv_all"] = json!({
        "folds": folds,
        "tracks": matrix.total(),
        "track_accuracy": accuracy,
        "track_macro_f1": f1,
        "description": config.description(),
        "rule": "grouped k-fold cross-validation over all the task's tracks (grouped as the validation split), each track held out once; track verdict = mean of its segment probabilities",
        "command": command,
    });
    export::write_sidecar(&path, &sidecar)?;
    Ok((accuracy, f1))
}

/// Records `trained` as a baseline (`baseline_<arch>`, with its command) in the sidecar of the
/// bundle already in `out` for this task, leaving the shipped network and its metrics alone.
pub fn record_baseline(
    dataset: &Dataset,
    trained: &Trained,
    options: &FitOptions,
    command: &str,
    out: &Path,
) -> Result<(), String> {
    let (path, mut sidecar) = read_sidecar(out, &dataset.task)?;
    let mut entry = metrics_json(trained, options);
    entry["command"] = json!(command);
    sidecar.metrics[format!("baseline_{}", trained.architecture.name())] = entry;
    export::write_sidecar(&path, &sidecar)
}

/// Writes the chosen network's bundle with the metrics of every network trained.
pub fn save(
    dataset: &Dataset,
    shipped: &Trained,
    others: &[&Trained],
    options: &FitOptions,
    command: &str,
    out: &Path,
) -> Result<(), String> {
    let mut metrics = json!({ "validation": metrics_json(shipped, options), "command": command });
    // Metrics of other networks measured earlier for this task stay as baselines, with their command.
    if let Ok(text) = std::fs::read_to_string(out.join(format!("{}.json", dataset.task)))
        && let Ok(previous) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let mut earlier: Vec<(String, serde_json::Value)> = Vec::new();
        if let Some(validation) = previous["metrics"].get("validation") {
            let mut entry = validation.clone();
            entry["command"] = previous["metrics"]["command"].clone();
            earlier.push((format!("baseline_{}", validation["architecture"].as_str().unwrap_or("earlier")), entry));
        }
        for (key, value) in previous["metrics"].as_object().into_iter().flatten() {
            if key.starts_with("baseline_") {
                earlier.push((key.clone(), value.clone()));
            }
        }
        for (key, value) in earlier {
            if key != format!("baseline_{}", shipped.architecture.name()) && metrics.get(&key).is_none() {
                metrics[key] = value;
            }
        }
    }
    for other in others {
        metrics[format!("baseline_{}", other.architecture.name())] = metrics_json(other, options);
    }
    export::write_bundle(out, &shipped.onnx, &sidecar(dataset, metrics, shipped.backbone.clone()))
}
