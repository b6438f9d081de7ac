//! `train`: trains Musicat's models natively (burn) and exports ONNX bundles with their metrics.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use musicat::FeatureParams;
use musicat::training::dataset::{self, Dataset};
use musicat::training::fit::FitOptions;
use musicat::training::{self as trainer, Architecture, heads};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Train a classifier from ../shared/data (genre, mood, style, sounds) or from your own labelled
/// folders (one subfolder per label), export it as `<name>.onnx` + `<name>.json`, and report its
/// validation accuracy measured through the same inference path as `classify`.
#[derive(Parser)]
#[command(name = "train", version)]
struct Args {
    /// Data folder holding manifest.csv (the shipped tasks).
    #[arg(long, conflicts_with = "folders", requires = "task")]
    data: Option<PathBuf>,
    /// Task to train from --data: genre, mood, style or sounds.
    #[arg(long)]
    task: Option<String>,
    /// A folder whose subfolders are the labels (the "sound classifier" workflow).
    #[arg(long, requires = "name")]
    folders: Option<PathBuf>,
    /// Name of the bundle trained from --folders.
    #[arg(long)]
    name: Option<String>,
    /// Where the bundle, REPORT.md and index.json go.
    #[arg(long, default_value = "models")]
    out: PathBuf,
    /// Network: `musicnn-head` (default: a head on the pretrained musicnn backbone, trained on its
    /// cached embeddings; the shipped models are these), the from-scratch `cnn`, or the original
    /// system's `seed` CNN.
    #[arg(long, default_value = "musicnn-head", value_parser = ["musicnn-head", "cnn", "seed"])]
    arch: String,
    /// The backbone ONNX for `--arch musicnn-head`, relative to --out (the sidecar names it so).
    #[arg(long, default_value = "backbone/musicnn_msd.onnx")]
    backbone: String,
    /// Where the backbone is copied from when --out has none: the shipped models folder.
    #[arg(long, default_value = "models")]
    backbone_from: PathBuf,
    /// Also train the `seed` baseline and record its metrics beside the shipped model's.
    #[arg(long)]
    compare_seed: bool,
    /// Train this network only as a baseline: record its metrics in the bundle already in --out
    /// for this task and keep the shipped network (e.g. `--arch seed --as-baseline`).
    #[arg(long)]
    as_baseline: bool,
    /// Train nothing: measure the bundle already in --out for --task again on its validation split
    /// (e.g. after its backbone was rebuilt) and update its figures, REPORT.md and index.json.
    #[arg(long, requires = "task", conflicts_with_all = ["as_baseline", "folders"])]
    remeasure: bool,
    /// Measure the head already in --out for this task (or --folders set) by grouped K-fold cross-validation over
    /// all its tracks (each held out once; the head retrained --epochs per fold), a steadier
    /// figure than a small validation split; stored in its sidecar as `cv_all`.
    #[arg(long, value_name = "K", conflicts_with_all = ["as_baseline", "remeasure"])]
    cv_all: Option<usize>,
    /// Heads: also train on each file played 6% slower and faster (about a semitone down and
    /// up). The candidates compared by cross-validation then include it; with --cv-all, the
    /// measured head trains with it. Embeds every training file three times instead of once.
    #[arg(long)]
    speed_copies: bool,
    /// Train nothing: only regenerate REPORT.md, its figures and index.json from the sidecars in --out.
    #[arg(long, conflicts_with_all = ["data", "folders"])]
    report_only: bool,
    /// Maximum epochs.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Stop after this many epochs without a better validation macro-F1.
    #[arg(long, default_value_t = 8)]
    patience: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Random crops drawn per training file and epoch.
    #[arg(long, default_value_t = 2)]
    crops: usize,
    /// Peak learning rate (AdamW, cosine schedule).
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Seed of initialisation, sampling and augmentation (the split never depends on it).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `--arch musicnn-head`: the head configuration, or `cv` to choose among all of them by
    /// grouped cross-validation inside the training split (names: linear, linear+mix+ls, mlp64,
    /// mlp64+mix+ls, and each with `+pen` after the first word for the penultimate layer too).
    #[arg(long, default_value = "cv")]
    head: String,
    /// Folds of that cross-validation.
    #[arg(long, default_value_t = 5)]
    cv_folds: usize,
    /// Swap training and validation sides (sounds only: fold 2 trains, fold 1 validates), the
    /// other half of a two-fold cross-validation over the two UrbanSound8K folds.
    #[arg(long)]
    swap_split: bool,
    /// Segment length in seconds for --folders with `--arch cnn` or `seed` (the shipped tasks fix
    /// their own; musicnn heads use the backbone's 3-second patches).
    #[arg(long, default_value_t = 5.0)]
    segment_seconds: f32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    if args.report_only {
        trainer::report::write(&args.out)?;
        eprintln!("wrote {}/REPORT.md, figures, index.json", args.out.display());
        return Ok(());
    }
    let mut dataset = load(args)?;
    if args.swap_split {
        if dataset.task != "sounds" {
            return Err("--swap-split is for --task sounds (two folds of equal size)".into());
        }
        dataset.swap_split();
    }
    let command = format!("train {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    if args.remeasure {
        let (before, after) = trainer::remeasure(&dataset, &args.out, &command)?;
        trainer::report::write(&args.out)?;
        eprintln!(
            "{}: track accuracy {:.1}% (was {:.1}%); wrote its sidecar, REPORT.md, index.json",
            dataset.task,
            after * 100.0,
            before * 100.0
        );
        return Ok(());
    }
    let options = FitOptions {
        epochs: args.epochs,
        patience: args.patience,
        batch: args.batch,
        crops_per_clip: args.crops,
        learning_rate: args.lr,
        seed: args.seed,
    };
    if let Some(folds) = args.cv_all {
        let (accuracy, f1) = trainer::cv_all(&dataset, &args.out, folds, &options, args.speed_copies, &command)?;
        trainer::report::write(&args.out)?;
        eprintln!(
            "{}: {folds}-fold cross-validation over all tracks: track accuracy {:.1}%, macro-F1 {f1:.3}; wrote its sidecar, REPORT.md, index.json",
            dataset.task,
            accuracy * 100.0
        );
        return Ok(());
    }
    eprintln!(
        "task `{}`: {} labels, {} training / {} validation files; split: {}",
        dataset.task,
        dataset.labels.len(),
        dataset.split(false).len(),
        dataset.split(true).len(),
        dataset.split_rule
    );
    let architecture = match args.arch.as_str() {
        "seed" => Architecture::Seed,
        "musicnn-head" => Architecture::MusicnnHead,
        _ => Architecture::Cnn,
    };
    let shipped = if architecture == Architecture::MusicnnHead {
        dataset.features = FeatureParams::musicnn();
        // Sound clips (4 s) lose their last second to musicnn's 2.976 s segments: there the
        // candidates also try training on that end-aligned segment.
        let tails: &[bool] = if dataset.task == "sounds" { &[false, true] } else { &[false] };
        let speeds: &[bool] = if args.speed_copies { &[false, true] } else { &[false] };
        let all = heads::candidates(args.epochs, tails, speeds);
        let candidates: Vec<heads::HeadConfig> = if args.head == "cv" {
            all
        } else {
            let known = all.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ");
            vec![
                all.into_iter()
                    .find(|c| c.name == args.head)
                    .ok_or(format!("unknown --head `{}` (known: cv, {known})", args.head))?,
            ]
        };
        let backbone = trainer::backbone_copy::ensure_backbone(&args.out, &args.backbone, &args.backbone_from)?;
        trainer::train_head(&dataset, &backbone, &args.backbone, &options, &candidates, args.cv_folds)?
    } else {
        trainer::train(&dataset, architecture, &options)?
    };
    print_result(&shipped);
    let baseline = if args.compare_seed && architecture != Architecture::Seed {
        let seed = trainer::train(&dataset, Architecture::Seed, &options)?;
        print_result(&seed);
        Some(seed)
    } else {
        None
    };
    if args.as_baseline {
        trainer::record_baseline(&dataset, &shipped, &options, &command, &args.out)?;
        trainer::report::write(&args.out)?;
        eprintln!(
            "recorded baseline_{} in {}/{}.json, REPORT.md",
            shipped.architecture.name(),
            args.out.display(),
            dataset.task
        );
        return Ok(());
    }
    trainer::save(&dataset, &shipped, &baseline.iter().collect::<Vec<_>>(), &options, &command, &args.out)?;
    trainer::report::write(&args.out)?;
    eprintln!("wrote {}/{}.onnx, .json, REPORT.md, index.json", args.out.display(), dataset.task);
    Ok(())
}

fn load(args: &Args) -> Result<Dataset, String> {
    match (&args.data, &args.task, &args.folders, &args.name) {
        (Some(data), Some(task), _, _) => dataset::from_manifest(data, task),
        (_, _, Some(folders), Some(name)) => {
            let features = FeatureParams {
                segment_seconds: args.segment_seconds,
                segment_hop_seconds: args.segment_seconds,
                ..FeatureParams::default()
            };
            features.validate().map_err(|e| e.to_string())?;
            dataset::from_folders(folders, name, features)
        }
        _ => Err("give either --data DIR --task TASK or --folders DIR --name NAME".into()),
    }
}

fn print_result(trained: &trainer::Trained) {
    let m = &trained.metrics;
    eprintln!(
        "{}: {} parameters, {:.0} KB ONNX, {:.0} s; validation (through the inference path): track accuracy {:.1}%, macro-F1 {:.3}, segment accuracy {:.1}%",
        trained.architecture.name(),
        trained.parameters,
        trained.onnx.len() as f64 / 1024.0,
        trained.seconds,
        m.track.accuracy() * 100.0,
        m.track.macro_f1(),
        m.segment.accuracy() * 100.0
    );
}
