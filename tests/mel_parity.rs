//! Parity with librosa: the filterbank, the mel power spectrogram and `power_to_db`, against
//! arrays written by `tests/reference/make_mel_reference.py` (librosa 0.10.2).

mod common;

use common::{decode_all, read_f32};
use musicat::features::mel::MelFilterbank;
use musicat::features::{DbReference, FeatureParams, MelSpectrogram};

const MELS: usize = 128;
const FRAMES: usize = 130;

/// The 3-second parity clip with librosa's defaults.
fn params(db_ref: DbReference, top_db: Option<f32>) -> FeatureParams {
    FeatureParams { segment_seconds: 3.0, segment_hop_seconds: 3.0, db_ref, top_db, ..FeatureParams::default() }
}

fn clip() -> Vec<f32> {
    let (rate, samples) = decode_all("fixtures/mel_input.wav").unwrap();
    assert_eq!((rate, samples.len()), (22_050, 66_150));
    samples
}

fn filterbank_matches(bank: &MelFilterbank, reference: &str) {
    let expected = read_f32(reference);
    assert_eq!(expected.len(), MELS * 1025);
    let worst = (0..MELS)
        .flat_map(|m| (0..1025).map(move |k| (m, k)))
        .map(|(m, k)| (bank.weight(m, k) - expected[m * 1025 + k]).abs())
        .fold(0.0f32, f32::max);
    // Slaney weights are ~1e-3..1e-2; an HTK scale or missing area normalisation is off by far more.
    assert!(worst < 1e-7, "{reference}: max weight difference {worst}");
}

#[test]
fn filterbank_equals_librosa_slaney_mel() {
    filterbank_matches(&MelFilterbank::new(22_050, 2048, 128, 0.0, 11_025.0), "reference/mel_filters.f32");
    filterbank_matches(&MelFilterbank::new(22_050, 2048, 128, 0.0, 10_000.0), "reference/mel_filters_fmax10k.f32");
}

#[test]
fn mel_power_equals_librosa_melspectrogram() {
    let p = params(DbReference::Max, Some(80.0));
    let mut spec = MelSpectrogram::new(&p);
    assert_eq!(spec.output_len(), MELS * FRAMES);
    let mut ours = vec![0.0; spec.output_len()];
    spec.power_into(&clip(), &mut ours);
    let expected = read_f32("reference/mel_power.f32");
    let peak = expected.iter().copied().fold(0.0f32, f32::max);
    let worst = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= peak * 1e-5, "max abs difference {worst} (peak {peak})");
}

/// Max |dB difference| over bins within 80 dB of the reference's maximum.
fn db_difference(db_ref: DbReference, top_db: Option<f32>, reference: &str) -> f32 {
    let mut spec = MelSpectrogram::new(&params(db_ref, top_db));
    let mut ours = vec![0.0; spec.output_len()];
    spec.model_input_into(&clip(), &mut ours);
    let expected = read_f32(reference);
    let max = expected.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    ours.iter().zip(&expected).filter(|(_, e)| **e >= max - 80.0).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max)
}

#[test]
fn decibels_match_librosa_within_0_05_db() {
    let with_max = db_difference(DbReference::Max, Some(80.0), "reference/mel_db_ref_max.f32");
    assert!(with_max <= 0.05, "ref=max, top_db=80: {with_max} dB");
    let with_one = db_difference(DbReference::One, None, "reference/mel_db_ref_one.f32");
    assert!(with_one <= 0.05, "ref=1.0: {with_one} dB");
}

#[test]
fn the_comparison_detects_a_wrong_mel_scale() {
    // A filterbank for another fmax shifts every band: the test above would catch it.
    let other = MelFilterbank::new(22_050, 2048, 128, 0.0, 10_000.0);
    let expected = read_f32("reference/mel_filters.f32");
    let worst = (0..MELS).map(|m| (other.weight(m, 100) - expected[m * 1025 + 100]).abs()).fold(0.0f32, f32::max);
    assert!(worst > 1e-4);
}
