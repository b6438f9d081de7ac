//! The "sound classifier" workflow end to end: synthetic labelled folders → `train --folders` →
//! ONNX bundle → loaded and run by the classify path on held-out files.
#![cfg(feature = "train")]

mod common;

use std::path::Path;
use std::process::Command;

use musicat::{Analyzer, AudioStream, Models};

const RATE: u32 = 22_050;
const KINDS: [&str; 3] = ["clicks", "noise", "tone"];

/// Deterministic pseudo-random numbers in -1..1.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }
}

/// One second of a tone, of noise, or of clicks; `variant` changes pitch, level and rate.
fn synthesise(kind: &str, variant: u32) -> Vec<f32> {
    let mut noise = Noise(variant * 7919 + 1);
    let level = 0.3 + 0.05 * (variant % 5) as f32;
    (0..RATE)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            match kind {
                "tone" => level * (std::f32::consts::TAU * (300.0 + 60.0 * variant as f32) * t).sin(),
                "noise" => level * noise.next(),
                _ => {
                    let period = RATE / (4 + variant % 4);
                    if i % period < 40 { level * if i % 2 == 0 { 1.0 } else { -1.0 } } else { 0.0 }
                }
            }
        })
        .collect()
}

fn write_wav(path: &Path, samples: &[f32]) {
    std::fs::write(path, common::wav_16bit(RATE, 1, samples)).unwrap();
}

/// Ten one-second files per kind in `root/data/<kind>/`.
fn labelled_folders(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    for kind in KINDS {
        let dir = root.join("data").join(kind);
        std::fs::create_dir_all(&dir).unwrap();
        for v in 0..10 {
            write_wav(&dir.join(format!("{kind}{v}.wav")), &synthesise(kind, v));
        }
    }
}

/// Runs `train --folders` on `root/data` into `root/models` with `extra` arguments.
fn train(root: &Path, extra: &[&str]) -> std::path::PathBuf {
    let out = root.join("models");
    let status = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--folders", root.join("data").to_str().unwrap(), "--name", "synthetic", "--out", out.to_str().unwrap()])
        .args(extra)
        .args(["--seed", "7"])
        .status()
        .expect("run train");
    assert!(status.success());
    for file in ["synthetic.onnx", "synthetic.json", "REPORT.md", "index.json", "synthetic-confusion.png"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("| synthetic | 3 |"), "{report}");
    assert!(report.contains("![synthetic confusion matrix](synthetic-confusion.png)"), "{report}");
    let figure = std::fs::read(out.join("synthetic-confusion.png")).unwrap();
    assert!(figure.starts_with(b"\x89PNG\r\n\x1a\n"), "the confusion figure is not a PNG");
    // IHDR: width and height (big-endian) after the signature and the chunk header.
    let dimension = |at: usize| u32::from_be_bytes(figure[at..at + 4].try_into().unwrap());
    assert!(dimension(16) > 200 && dimension(20) > 200, "figure {}×{}", dimension(16), dimension(20));
    out
}

/// New files, never seen in training, classified through the shipped inference path: how many right.
fn held_out_correct(root: &Path, models: &Path) -> usize {
    let models = Models::load_dir(models).unwrap();
    let mut analyzer = Analyzer::new(&models);
    let mut correct = 0;
    for kind in KINDS {
        for v in 20..24 {
            let path = root.join(format!("{kind}-new{v}.wav"));
            write_wav(&path, &synthesise(kind, v));
            let report = analyzer.analyze(AudioStream::open_file(&path).unwrap()).unwrap();
            correct += usize::from(report.tasks["synthetic"].label == kind);
        }
    }
    correct
}

#[test]
fn folders_train_a_cnn_export_and_classify_held_out_files() {
    let root = std::env::temp_dir().join(format!("musicat-train-cnn-{}", std::process::id()));
    labelled_folders(&root);
    let args = [
        "--arch",
        "cnn",
        "--segment-seconds",
        "1",
        "--epochs",
        "6",
        "--patience",
        "6",
        "--batch",
        "16",
        "--crops",
        "4",
    ];
    let out = train(&root, &args);
    let correct = held_out_correct(&root, &out);
    assert!(correct >= 11, "{correct}/12 held-out files classified correctly");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn folders_train_a_musicnn_head_by_default_with_the_shipped_backbone_copied_beside_it() {
    let root = std::env::temp_dir().join(format!("musicat-train-head-{}", std::process::id()));
    labelled_folders(&root);
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let args = ["--backbone-from", shipped.to_str().unwrap(), "--epochs", "20", "--cv-folds", "3", "--speed-copies"];
    let out = train(&root, &args);
    for file in ["musicnn_msd.onnx", "LICENSE-musicnn.txt"] {
        assert!(out.join("backbone").join(file).is_file(), "backbone/{file} not copied beside the head");
    }
    let sidecar = std::fs::read_to_string(out.join("synthetic.json")).unwrap();
    assert!(sidecar.contains("backbone/musicnn_msd.onnx"), "the head names no backbone: {sidecar}");
    // With --speed-copies, cross-validation also weighs every head trained on the copies.
    let parsed: serde_json::Value = serde_json::from_str(&sidecar).unwrap();
    let candidates = parsed["metrics"]["validation"]["selection"]["candidates"].as_array().unwrap();
    let names: Vec<&str> = candidates.iter().filter_map(|c| c["head"].as_str()).collect();
    assert_eq!(names.len(), 16, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with("+speeds")).count(), 8, "{names:?}");
    let correct = held_out_correct(&root, &out);
    assert!(correct >= 11, "{correct}/12 held-out files classified correctly");
    // The steadier figure: the same head retrained in 3 folds over all 30 files, each scored once.
    let status = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--folders", root.join("data").to_str().unwrap(), "--name", "synthetic", "--out", out.to_str().unwrap()])
        .args(["--cv-all", "3", "--epochs", "20", "--seed", "7"])
        .status()
        .expect("run train --cv-all");
    assert!(status.success());
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("synthetic.json")).unwrap()).unwrap();
    let cv = &sidecar["metrics"]["cv_all"];
    assert_eq!((cv["folds"].as_u64(), cv["tracks"].as_u64()), (Some(3), Some(30)), "{cv}");
    assert!(cv["track_accuracy"].as_f64().unwrap() >= 0.8, "{cv}");
    // Each fold retrains the head cross-validation chose for the bundle, not a stand-in.
    assert_eq!(cv["description"], sidecar["metrics"]["validation"]["description"], "{cv}");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("(3-fold, 30 tracks)"), "{report}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn folders_train_without_a_backbone_says_where_to_find_one() {
    let root = std::env::temp_dir().join(format!("musicat-train-nobackbone-{}", std::process::id()));
    labelled_folders(&root);
    let output = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--folders", root.join("data").to_str().unwrap(), "--name", "synthetic"])
        .args([
            "--out",
            root.join("models").to_str().unwrap(),
            "--backbone-from",
            root.join("nowhere").to_str().unwrap(),
        ])
        .output()
        .expect("run train");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--backbone-from") && stderr.contains("musicnn_msd.onnx"), "{stderr}");
    let _ = std::fs::remove_dir_all(root);
}
