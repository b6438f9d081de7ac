//! Property tests (a short, time-boxed cousin of the fuzz targets in `fuzz/`): mutated audio files
//! and mutated sidecars never panic and never hang; they decode or give a typed error.

mod common;

use common::fixture;
use musicat::features::MelSpectrogram;
use musicat::{AudioStream, ModelBundle};
use proptest::prelude::*;

const FILES: [&str; 5] = [
    "fixtures/audio/music_stereo_44100.mp3",
    "fixtures/audio/music_12s_22050_mono.flac",
    "fixtures/audio/music_stereo_44100.ogg",
    "fixtures/audio/music_stereo_44100.m4a",
    "fixtures/audio/tone_s16_22050_stereo.wav",
];

/// Decodes at most `limit` samples, then computes one spectrogram, as the pipeline would.
fn decode_some(bytes: Vec<u8>, extension: &str, limit: usize) {
    let Ok(mut stream) = AudioStream::open_bytes(bytes, Some(extension)) else { return };
    let mut samples = Vec::new();
    while samples.len() < limit {
        match stream.next_chunk() {
            Ok(Some(chunk)) => samples.extend_from_slice(chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let params = musicat::FeatureParams::default();
    let mut spectrogram = MelSpectrogram::new(&params);
    let mut out = vec![0.0; spectrogram.output_len()];
    samples.truncate(params.segment_samples());
    spectrogram.model_input_into(&samples, &mut out);
    assert!(out.iter().all(|v| v.is_finite()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_audio_files_decode_or_fail_cleanly(
        file in 0..FILES.len(),
        writes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        keep in 0.0f64..=1.0,
    ) {
        let mut bytes = std::fs::read(fixture(FILES[file])).unwrap();
        for (at, value) in writes {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(((bytes.len() as f64) * keep).ceil() as usize);
        let extension = FILES[file].rsplit('.').next().unwrap();
        decode_some(bytes, extension, 200_000);
    }

    #[test]
    fn mutated_sidecars_load_or_fail_cleanly(
        sample_rate in prop_oneof![Just(0u64), 1u64..400_000, Just(u32::MAX as u64)],
        n_fft in prop_oneof![Just(0u64), 1u64..70_000, Just(1u64 << 30)],
        hop in 0u64..5_000,
        n_mels in 0u64..1_000,
        segment in prop_oneof![Just(-1.0f64), 0.0f64..100.0, Just(1e30)],
        labels in 0usize..6,
    ) {
        let onnx = std::fs::read(fixture("models/fixture/genre.onnx")).unwrap();
        let names: Vec<String> = (0..labels).map(|i| format!("l{i}")).collect();
        let json = serde_json::json!({
            "task": "genre", "labels": names, "sample_rate": sample_rate, "n_fft": n_fft,
            "hop_length": hop, "n_mels": n_mels, "fmax": 8000.0, "segment_seconds": segment,
            "segment_hop_seconds": segment, "input_shape": [1, n_mels, 216],
        });
        if let Ok(bundle) = ModelBundle::from_bytes("genre", &onnx, &json.to_string()) {
            // Only parameters the fixture model accepts can load; they must be usable.
            let spectrogram = MelSpectrogram::new(&bundle.sidecar.features);
            prop_assert!(spectrogram.output_len() > 0);
        }
    }
}
