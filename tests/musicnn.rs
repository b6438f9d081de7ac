//! The musicnn backbone: Musicat's front end matches musicnn's own preprocessing, tract runs the
//! converted model like TensorFlow, and the `tags` bundle gives musicnn's tags through the pipeline.

mod common;

use common::{fixture, read_f32};
use musicat::features::MelSpectrogram;
use musicat::{Analyzer, AudioStream, Models};

fn reference(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(&format!("reference/musicnn/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn rows(value: &serde_json::Value) -> Vec<Vec<f32>> {
    let row = |r: &serde_json::Value| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    value.as_array().unwrap().iter().map(row).collect()
}

fn shipped_models() -> Models {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    Models::load_dir(&dir).unwrap().select(&["tags".to_string()]).unwrap()
}

#[test]
fn front_end_matches_musicnn_preprocessing() {
    let models = shipped_models();
    let params = &models.bundles()[0].sidecar.features;
    assert_eq!(params, &musicat::FeatureParams::musicnn(), "tags.json uses musicnn's front end");
    let reference = reference("mel_input");
    let waveform = read_f32("reference/musicnn/mel_input_16k.f32");
    let mut spectrogram = MelSpectrogram::new(params);
    let mut ours = vec![0.0; spectrogram.output_len()];
    spectrogram.model_input_into(&waveform[..params.segment_samples()], &mut ours);
    let theirs = rows(&reference["audio_rep"]["values"]);
    let n_mels = params.n_mels;
    // The last frame of a 187-frame patch reaches past the patch: musicnn sees the next samples, a
    // segment sees zeros. Every other frame must agree within musicnn's float16 rounding (2e-4).
    let mut worst = 0.0f32;
    for (t, row) in theirs.iter().enumerate().take(params.frames() - 1) {
        for (m, &value) in row.iter().enumerate() {
            worst = worst.max((ours[t * n_mels + m] - value).abs());
        }
    }
    assert!(worst < 3e-4, "log-mel differs from musicnn's by {worst}");
}

#[test]
fn tract_runs_the_backbone_like_tensorflow() {
    let models = shipped_models();
    let (backbone, _) = models.bundles()[0].backbone().unwrap();
    let reference = reference("mel_input");
    let patch: Vec<f32> = rows(&reference["audio_rep"]["values"]).into_iter().take(187).flatten().collect();
    let mut out = Vec::new();
    backbone.runner().run_into(&patch, 1, &mut out).unwrap();
    let mut start = 0;
    for (name, width) in backbone.runner().output_layout() {
        let expected = &rows(&reference["outputs"][name]["values"])[0];
        let worst = out[start..start + width].iter().zip(expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let scale = expected.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        // The shipped backbone stores its weights as float16: tools/musicnn/convert.py checks the
        // float32 graph against TensorFlow within 1e-4, and the float16 one within 2e-3 of each
        // output's largest value (measured on its 36 parity patches: up to 1.4e-3, on max_pool).
        assert!(worst <= 2e-3 * scale, "{name}: differs by {worst} (largest value {scale})");
        start += width;
    }
    assert_eq!(start, backbone.width());
}

#[test]
fn tags_through_the_pipeline_match_musicnn_on_a_16_khz_file() {
    let models = shipped_models();
    let mut analyzer = Analyzer::new(&models);
    let stream = AudioStream::open_file(&fixture("fixtures/audio/silence6s_tone6s_16000_mono.wav")).unwrap();
    let report = analyzer.analyze(stream).unwrap();
    // musicnn's 4 patches start every 187 frames; the first two are digital silence, left out here.
    let starts: Vec<f64> = report.segments.iter().map(|s| s.start_s).collect();
    assert_eq!(starts, vec![0.0, 2.992, 5.984, 8.976]);
    assert!(report.segments[0].silent && report.segments[1].silent);
    let sigmoid = rows(&reference("silence6s_tone6s_16000_mono")["outputs"]["taggram_sigmoid"]["values"]);
    let verdict = &report.tasks["tags"];
    let labels = &models.bundles()[0].sidecar.labels;
    let expected: Vec<f32> = (0..labels.len()).map(|i| (sigmoid[2][i] + sigmoid[3][i]) / 2.0).collect();
    let worst = labels.iter().zip(&expected).map(|(l, e)| (verdict.scores[l] - e).abs()).fold(0.0f32, f32::max);
    // A segment's edge frames see zeros where musicnn's whole-file STFT sees the neighbouring
    // audio; on this abrupt tone that moves single tags by up to 0.1, not the ranking.
    assert!(worst < 0.1, "tag probabilities differ from musicnn's by {worst}");
    let top = |score: &dyn Fn(usize) -> f32| {
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by(|&a, &b| score(b).total_cmp(&score(a)));
        order.truncate(3);
        order.sort();
        order
    };
    assert_eq!(top(&|i| verdict.scores[&labels[i]]), top(&|i| expected[i]), "top 3 tags");
}
