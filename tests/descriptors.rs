//! Descriptors on synthetic signals with known answers: click tracks (tempo), triads and scales
//! in all 24 keys (key), EBU test tones (loudness), and a steady beat against sparse quiet notes
//! (energy and danceability).

mod common;

use std::f32::consts::PI;

use musicat::audio::Chunk;
use musicat::descriptors::DescriptorAnalyzer;
use musicat::{AudioStream, Descriptors};

const RATE: u32 = 22_050;

/// Runs the analyzer over mono samples at `rate`, a few thousand samples per packet.
fn describe(samples: &[f32], rate: u32) -> Descriptors {
    let mut analyzer = DescriptorAnalyzer::new();
    analyzer.reset(rate).unwrap();
    for chunk in samples.chunks(4096) {
        analyzer.push(Chunk { mono: chunk, interleaved: chunk, channels: 1 });
    }
    analyzer.finish()
}

/// Decodes an in-memory WAV of interleaved samples and describes it (the whole file path).
fn describe_wav(rate: u32, channels: u16, interleaved: &[f32]) -> Descriptors {
    let stream = AudioStream::open_bytes(common::wav_16bit(rate, channels, interleaved), Some("wav")).unwrap();
    DescriptorAnalyzer::new().describe(stream).unwrap()
}

/// A click: a 2 kHz burst decaying in a few milliseconds.
fn click(t: f32) -> f32 {
    (2.0 * PI * 2000.0 * t).sin() * (-t / 0.004).exp()
}

/// `seconds` of clicks at `bpm`, amplitude `gain`.
fn click_track(bpm: f32, seconds: f32, gain: f32) -> Vec<f32> {
    let period = 60.0 / bpm;
    (0..(seconds * RATE as f32) as usize)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            gain * click(t % period)
        })
        .collect()
}

#[test]
fn click_tracks_from_60_to_200_bpm_are_within_two_percent() {
    let mut failures = Vec::new();
    let tempi = (60..=200).step_by(5).map(|b| b as f32).chain([67.5, 99.9, 133.3, 171.4, 187.2]);
    for bpm in tempi {
        let found = describe(&click_track(bpm, 30.0, 0.8), RATE).tempo_bpm;
        match found {
            Some(f) if (f / bpm - 1.0).abs() <= 0.02 => {}
            other => failures.push(format!("{bpm} BPM → {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn beats_fall_on_the_clicks() {
    let d = describe(&click_track(120.0, 20.0, 0.8), RATE);
    assert!(d.beats_s.len() >= 35, "{} beats", d.beats_s.len());
    for beat in &d.beats_s {
        let off = (beat + 0.25).rem_euclid(0.5) - 0.25;
        assert!(off.abs() < 0.05, "beat at {beat} s is {off} s off the clicks");
    }
}

/// MIDI note number to Hz.
fn hz(midi: i32) -> f32 {
    440.0 * 2f32.powf((midi - 69) as f32 / 12.0)
}

/// A plucked note with four harmonics, `seconds` long.
fn note(midi: i32, seconds: f32) -> impl Iterator<Item = f32> {
    let f = hz(midi);
    (0..(seconds * RATE as f32) as usize).map(move |i| {
        let t = i as f32 / RATE as f32;
        let tone: f32 = (1..=4).map(|h| 0.5f32.powi(h - 1) * (2.0 * PI * h as f32 * f * t).sin()).sum();
        0.2 * tone * (-1.5 * t).exp()
    })
}

const MAJOR_SCALE: [i32; 8] = [0, 2, 4, 5, 7, 9, 11, 12];
const HARMONIC_MINOR_SCALE: [i32; 8] = [0, 2, 3, 5, 7, 8, 11, 12];

#[test]
fn triads_and_scales_name_their_key_in_all_24_keys() {
    let names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    let mut failures = Vec::new();
    for (tonic, name) in names.iter().enumerate() {
        let root = 60 + tonic as i32; // C4 to B4
        for (mode, third, scale) in [("major", 4, MAJOR_SCALE), ("minor", 3, HARMONIC_MINOR_SCALE)] {
            let expected = format!("{name} {mode}");
            let triad: Vec<f32> = {
                let voices: Vec<Vec<f32>> = [0, third, 7].iter().map(|i| note(root + i, 2.0).collect()).collect();
                (0..voices[0].len()).map(|i| voices.iter().map(|v| v[i]).sum()).collect()
            };
            let scale: Vec<f32> = scale.iter().flat_map(|i| note(root + i, 0.4)).collect();
            for (what, signal) in [("triad", triad), ("scale", scale)] {
                let found = describe(&signal, RATE).key;
                if found.as_deref() != Some(expected.as_str()) {
                    failures.push(format!("{expected} {what} → {found:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of 48 wrong: {failures:?}", failures.len());
}

/// A 1 kHz sine at `dbfs` (peak), `seconds` long, on `channels` identical channels at 48 kHz.
fn sine_1k(dbfs: f32, seconds: f32, channels: usize) -> Vec<f32> {
    let amplitude = 10f32.powf(dbfs / 20.0);
    (0..(seconds * 48_000.0) as usize)
        .flat_map(|i| std::iter::repeat_n(amplitude * (2.0 * PI * 1000.0 * i as f32 / 48_000.0).sin(), channels))
        .collect()
}

#[test]
fn loudness_matches_the_ebu_tech_3341_and_3342_test_signals() {
    // Tech 3341 cases 1 and 2: a stereo 1 kHz sine at −23 and −33 dBFS reads −23.0 and −33.0 LUFS (±0.1).
    for level in [-23.0f32, -33.0] {
        let d = describe_wav(48_000, 2, &sine_1k(level, 20.0, 2));
        let lufs = d.loudness_lufs.unwrap();
        assert!((lufs - level).abs() <= 0.1, "{level} dBFS sine read {lufs} LUFS");
        assert!((d.peak_dbfs.unwrap() - level).abs() < 0.05, "peak {:?}", d.peak_dbfs);
        assert!(d.true_peak_dbtp.unwrap() >= d.peak_dbfs.unwrap() - 0.01);
    }
    // Tech 3342 case 1: 20 s at −20 dBFS then 20 s at −30 dBFS has a loudness range of 10 ± 1 LU.
    let mut steps = sine_1k(-20.0, 20.0, 2);
    steps.extend(sine_1k(-30.0, 20.0, 2));
    let range = describe_wav(48_000, 2, &steps).loudness_range_lu.unwrap();
    assert!((range - 10.0).abs() <= 1.0, "loudness range {range} LU");
    // A mono file counts its one channel once: the same sine reads 3 LU lower than in stereo.
    let mono = describe_wav(48_000, 1, &sine_1k(-23.0, 20.0, 1)).loudness_lufs.unwrap();
    assert!((mono + 26.01).abs() <= 0.1, "mono {mono} LUFS");
}

#[test]
fn silence_has_no_tempo_key_or_loudness() {
    let d = describe(&vec![0.0; 10 * RATE as usize], RATE);
    assert_eq!((d.tempo_bpm, d.key.as_deref(), d.loudness_lufs), (None, None, None));
    assert_eq!((d.energy, d.danceability), (0.0, 0.0));
    assert!(d.beats_s.is_empty());
}

/// Sparse quiet notes: a few soft sine notes at irregular times.
fn sparse_quiet_notes(gain: f32) -> Vec<f32> {
    let mut signal = vec![0.0f32; 30 * RATE as usize];
    for (k, start) in [0.7f32, 3.1, 4.0, 8.9, 13.3, 14.2, 19.8, 24.5, 27.0].iter().enumerate() {
        let at = (start * RATE as f32) as usize;
        for (i, v) in note(57 + 3 * k as i32, 1.5).enumerate() {
            if let Some(slot) = signal.get_mut(at + i) {
                *slot += gain * v;
            }
        }
    }
    signal
}

#[test]
fn a_steady_loud_beat_scores_higher_than_sparse_quiet_notes() {
    let beat: Vec<f32> = click_track(124.0, 30.0, 0.9)
        .iter()
        .zip(sparse_quiet_notes(2.0))
        .map(|(c, n)| c + n) // a pad under the beat, so it is not just clicks
        .collect();
    let loud = describe(&beat, RATE);
    let quiet = describe(&sparse_quiet_notes(0.1), RATE);
    assert!(loud.energy > quiet.energy + 0.2, "energy {} vs {}", loud.energy, quiet.energy);
    assert!(
        loud.danceability > quiet.danceability + 0.2,
        "danceability {} vs {}",
        loud.danceability,
        quiet.danceability
    );
    // Monotonic in level: the same beat 20 dB down has less energy, the same danceability.
    let softer: Vec<f32> = beat.iter().map(|v| v * 0.1).collect();
    let soft = describe(&softer, RATE);
    assert!(soft.energy < loud.energy, "energy {} vs {}", soft.energy, loud.energy);
    assert!((soft.danceability - loud.danceability).abs() < 0.05);
    for d in [&loud, &quiet, &soft] {
        assert!((0.0..=1.0).contains(&d.energy) && (0.0..=1.0).contains(&d.danceability));
    }
}

#[test]
fn the_music_fixture_is_120_bpm_in_c_major() {
    let stream = AudioStream::open_file(&common::fixture("fixtures/audio/music_stereo_44100.mp3")).unwrap();
    let d = DescriptorAnalyzer::new().describe(stream).unwrap();
    let bpm = d.tempo_bpm.unwrap();
    assert!((bpm - 120.0).abs() / 120.0 < 0.02, "{bpm} BPM");
    assert_eq!(d.key.as_deref(), Some("C major"));
}

#[test]
fn tempo_and_beats_agree_with_librosa_on_the_fixtures() {
    // Written by tests/reference/descriptors/make_reference.py (librosa.beat.beat_track).
    let text = std::fs::read_to_string(common::fixture("reference/descriptors/librosa_beats.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let files = reference["files"].as_object().unwrap();
    assert!(files.len() >= 6);
    let mut failures = Vec::new();
    for (name, expected) in files {
        let stream = AudioStream::open_file(&common::fixture(&format!("fixtures/audio/{name}"))).unwrap();
        let d = DescriptorAnalyzer::new().describe(stream).unwrap();
        let theirs = expected["tempo_bpm"].as_f64().unwrap() as f32;
        let Some(ours) = d.tempo_bpm else {
            failures.push(format!("{name}: no tempo (librosa {theirs})"));
            continue;
        };
        // librosa's tempo is a whole-frame lag (±2.5% at 120 BPM); ours is refined between lags.
        let Some(factor) = [1.0f32, 2.0, 0.5].into_iter().find(|f| (ours / (theirs * f) - 1.0).abs() <= 0.05) else {
            failures.push(format!("{name}: {ours:.1} BPM, librosa {theirs:.1}"));
            continue;
        };
        if factor == 1.0 {
            let theirs: Vec<f32> =
                expected["beats_s"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap() as f32).collect();
            let matched = theirs.iter().filter(|t| d.beats_s.iter().any(|o| (o - *t).abs() <= 0.07)).count();
            if (matched as f32) < 0.9 * theirs.len() as f32 {
                failures.push(format!("{name}: {matched} of librosa's {} beats matched", theirs.len()));
            }
        }
        // The drum patterns are named by their tempo: ours is that tempo (or its half or double).
        if let Some(bpm) = name.strip_prefix("drums_").and_then(|n| n.split("bpm").next()) {
            let truth: f32 = bpm.parse().unwrap();
            if ![1.0f32, 2.0, 0.5].iter().any(|f| (ours / (truth * f) - 1.0).abs() <= 0.02) {
                failures.push(format!("{name}: {ours:.1} BPM"));
            }
        }
        println!("{name}: ours {ours:.1} BPM, librosa {theirs:.1}");
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn descriptors_read_from_the_models_resampled_samples_equal_the_descriptors_alone() {
    // The shipped heads run at the descriptors' rate (16 kHz), so the analyzer hands the
    // descriptors the samples it resampled for them; the fixture models run at 22.05 kHz, so
    // the descriptors resample for themselves. Either way: the same descriptors as alone.
    use musicat::{Analyzer, Models};
    let shipped = Models::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
        .unwrap()
        .select(&["genre".to_string()])
        .unwrap();
    assert_eq!(shipped.bundles()[0].sidecar.features.sample_rate, musicat::descriptors::SAMPLE_RATE);
    let scratch = Models::load_dir(&common::fixture("models/fixture")).unwrap();
    for file in ["fixtures/audio/music_stereo_44100.mp3", "fixtures/audio/music_12s_22050_mono.flac"] {
        let open = || AudioStream::open_file(&common::fixture(file)).unwrap();
        let alone = DescriptorAnalyzer::new().describe(open()).unwrap();
        assert!(alone.tempo_bpm.is_some() && alone.key.is_some(), "{file}: {alone:?}");
        for models in [&shipped, &scratch] {
            let report = Analyzer::new(models).with_descriptors().analyze(open()).unwrap();
            assert_eq!(report.descriptors.as_ref(), Some(&alone), "{file}");
        }
    }
}
