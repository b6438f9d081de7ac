//! `Analyzer::analyze_observed` hands out each non-silent segment's model input once, in order,
//! and those segments paint a `MelThumbnail` of the whole track.

mod common;

use musicat::features::{MelSpectrogram, MelThumbnail};
use musicat::{Analyzer, AudioStream, Models};

use common::{decode_all, fixture};

#[test]
fn the_observer_sees_every_classified_segment_and_the_report_is_unchanged() {
    let models = Models::load_dir(&fixture("models/fixture")).expect("fixture models");
    let mut analyzer = Analyzer::new(&models);
    let path = fixture("fixtures/audio/silence6s_tone6s_16000_mono.wav");
    let plain = analyzer.analyze(AudioStream::open_file(&path).unwrap()).unwrap();

    let mut seen = Vec::new();
    let mut image = MelThumbnail::new(32, 10.0);
    let observed = analyzer
        .analyze_observed(AudioStream::open_file(&path).unwrap(), &mut |_| {}, &mut |segment| {
            assert_eq!(segment.db.len(), segment.params.n_mels * segment.params.frames());
            image.add(segment.params, segment.start_s, segment.end_s, segment.db);
            seen.push((segment.start_s, segment.end_s));
        })
        .unwrap();
    assert_eq!(observed, plain);
    // Both fixture models share their feature parameters: one call per non-silent segment.
    let classified: Vec<(f64, f64)> =
        plain.segments.iter().filter(|s| !s.silent).map(|s| (s.start_s, s.end_s)).collect();
    assert!(plain.segments.iter().any(|s| s.silent), "the first 5 s are digital silence");
    assert_eq!(seen, classified);
    // The silent first segment stays black; the tone after 6 s is painted.
    let pixels = image.to_row_major();
    let columns = image.columns();
    assert_eq!(columns, (plain.segments.last().unwrap().end_s * 10.0).ceil() as usize);
    let column_max = |c: usize| (0..32).map(|r| pixels[r * columns + c]).max().unwrap();
    assert_eq!(column_max(20), 0);
    assert!(column_max(80) > 200);
}

#[test]
fn the_observed_spectrogram_is_the_model_input() {
    let models = Models::load_dir(&fixture("models/fixture")).expect("fixture models");
    let params = models.bundles()[0].sidecar.features.clone();
    let mut analyzer = Analyzer::new(&models);
    let path = fixture("fixtures/audio/music_12s_22050_mono.flac");
    let mut first = None;
    analyzer
        .analyze_observed(AudioStream::open_file(&path).unwrap(), &mut |_| {}, &mut |segment| {
            if first.is_none() {
                first = Some(segment.db.to_vec());
            }
        })
        .unwrap();
    let (_, samples) = decode_all("fixtures/audio/music_12s_22050_mono.flac").unwrap();
    let mut expected = vec![0.0; params.n_mels * params.frames()];
    MelSpectrogram::new(&params).model_input_into(&samples[..params.segment_samples()], &mut expected);
    let first = first.expect("one segment at least");
    let worst = first.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "max difference {worst} dB");
}
