//! Model bundles: loading validates the ONNX/sidecar pair, and inference matches onnxruntime.

mod common;

use common::{decode_all, fixture};
use musicat::features::MelSpectrogram;
use musicat::model::runner::softmax_into;
use musicat::{Analyzer, AudioStream, ModelBundle, ModelError, Models};

fn expected_logits() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("models/fixture/expected_logits.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_fixture_directory_loads_both_tasks() {
    let models = Models::load_dir(&fixture("models/fixture")).unwrap();
    assert_eq!(models.task_names(), vec!["genre", "mood"]);
    let only_mood = models.select(&["mood".to_string()]).unwrap();
    assert_eq!(only_mood.task_names(), vec!["mood"]);
    let err = Models::load_dir(&fixture("models/fixture")).unwrap().select(&["tempo".to_string()]).err().unwrap();
    assert_eq!(err.to_string(), "no model for task `tempo` (available: genre, mood)");
}

#[test]
fn label_count_must_match_the_model_outputs() {
    let err = ModelBundle::from_files(&fixture("models/mismatch/genre.onnx")).err().unwrap();
    assert!(matches!(err, ModelError::Mismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("3 outputs but the sidecar lists 4 labels"), "{err}");
}

#[test]
fn input_shape_must_match_the_feature_parameters() {
    let err = ModelBundle::from_files(&fixture("models/badshape/genre.onnx")).err().unwrap();
    assert!(matches!(err, ModelError::Mismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("n_mels = 128"), "{err}");
}

#[test]
fn missing_files_and_empty_directories_are_reported() {
    let err = ModelBundle::from_files(&fixture("models/nowhere/genre.onnx")).err().unwrap();
    assert!(matches!(err, ModelError::Read { .. }), "{err:?}");
    let err = Models::load_dir(&fixture("fixtures/bad")).err().unwrap();
    assert!(matches!(err, ModelError::NoModels(_)), "{err:?}");
}

#[test]
fn a_truncated_onnx_file_is_an_onnx_error() {
    let onnx = std::fs::read(fixture("models/fixture/genre.onnx")).unwrap();
    let json = std::fs::read_to_string(fixture("models/fixture/genre.json")).unwrap();
    let err = ModelBundle::from_bytes("genre", &onnx[..onnx.len() / 2], &json).err().unwrap();
    assert!(matches!(err, ModelError::Onnx { .. }), "{err:?}");
}

#[test]
fn inference_matches_onnxruntime_on_librosa_features_of_real_segments() {
    let expected = expected_logits();
    let (rate, samples) = decode_all("fixtures/audio/music_12s_22050_mono.flac").unwrap();
    assert_eq!(rate, 22_050);
    for task in ["genre", "mood"] {
        let bundle = ModelBundle::from_files(&fixture(&format!("models/fixture/{task}.onnx"))).unwrap();
        let mut spec = MelSpectrogram::new(&bundle.sidecar.features);
        let item = spec.output_len();
        let mut inputs = vec![0.0; 2 * item];
        for s in 0..2 {
            spec.model_input_into(&samples[s * 110_250..(s + 1) * 110_250], &mut inputs[s * item..(s + 1) * item]);
        }
        let mut ours = Vec::new();
        bundle.runner().probabilities(&inputs, 2, bundle.sidecar.activation, &mut ours).unwrap();
        let mut theirs = Vec::new();
        for row in expected[task]["music_12s_segments"].as_array().unwrap() {
            let logits: Vec<f32> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            softmax_into(&logits, &mut theirs);
        }
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "{task}: probabilities differ by {worst}: {ours:?} vs {theirs:?}");
    }
}

#[test]
fn silence_is_left_out_and_a_silent_file_is_an_error() {
    let models = Models::load_dir(&fixture("models/fixture")).unwrap();
    let mut analyzer = Analyzer::new(&models);
    let stream = AudioStream::open_file(&fixture("fixtures/audio/silence6s_tone6s_16000_mono.wav")).unwrap();
    let report = analyzer.analyze(stream).unwrap();
    assert_eq!(report.segments.len(), 2);
    assert!(report.segments[0].silent && report.segments[0].tasks.is_empty());
    assert!(!report.segments[1].silent && report.segments[1].tasks.len() == 2);

    let silent = musicat::audio::AudioStream::open_bytes(
        common::wav_16bit(22_050, 1, &std::iter::repeat_n(0.0, 3 * 22_050).collect::<Vec<f32>>()),
        Some("wav"),
    )
    .unwrap();
    let err = analyzer.analyze(silent).err().unwrap();
    assert!(err.to_string().contains("only digital silence"), "{err}");
}

#[test]
fn a_short_clip_is_padded_and_classified_and_long_ones_give_a_timeline() {
    let models = Models::load_dir(&fixture("models/fixture")).unwrap();
    let mut analyzer = Analyzer::new(&models);
    let short = analyzer
        .analyze(AudioStream::open_file(&fixture("fixtures/audio/short_1.5s_22050_mono.wav")).unwrap())
        .unwrap();
    assert_eq!(short.segments.len(), 1);
    assert!((short.segments[0].end_s - 1.5).abs() < 1e-6);
    assert_eq!(short.tasks.len(), 2);
    let long = analyzer
        .analyze(AudioStream::open_file(&fixture("fixtures/audio/music_12s_22050_mono.flac")).unwrap())
        .unwrap();
    let starts: Vec<f64> = long.segments.iter().map(|s| s.start_s).collect();
    assert_eq!(starts, vec![0.0, 5.0]);
    let verdict = &long.tasks["genre"];
    let sum: f32 = verdict.scores.values().sum();
    assert!((sum - 1.0).abs() < 1e-4 && verdict.scores[&verdict.label] == verdict.score);
}

/// Peak resident memory of this process so far, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

#[test]
fn hostile_models_are_refused_or_contained() {
    let music = || AudioStream::open_file(&fixture("fixtures/audio/music_12s_22050_mono.flac")).unwrap();
    // Logits that are NaN: the track gets a model error, not a made-up verdict.
    let models = Models::load_dir(&fixture("models/hostile/nan")).unwrap();
    let err = Analyzer::new(&models).analyze(music()).err().unwrap();
    assert!(matches!(err, musicat::AnalyzeError::Model(ModelError::Inference { .. })), "{err:?}");
    assert!(err.to_string().contains("NaN"), "{err}");
    // A weight that declares 40 GB but holds 12 bytes is refused before anything that size exists.
    let err = ModelBundle::from_files(&fixture("models/hostile/absurd_dims/genre.onnx")).err().unwrap();
    assert!(matches!(err, ModelError::Onnx { .. }) && err.to_string().contains("does not match shape"), "{err}");
    // An intermediate of 2^40 zeros is folded away by the optimiser instead of allocated.
    let models = Models::load_dir(&fixture("models/hostile/huge_output")).unwrap();
    let report = Analyzer::new(&models).analyze(music()).unwrap();
    assert_eq!(report.tasks["genre"].scores.len(), 3);
    assert!(peak_rss_mb() < 1024.0, "peak RSS {:.0} MB", peak_rss_mb());
}
