//! A track analysed in shares (as the browser app's workers split one file: one decodes it and
//! relays the samples to the others) and merged gives the report of the track analysed whole:
//! same timeline, same verdicts, same descriptors.

mod common;

use musicat::audio::Chunk;
use musicat::share::{Share, merge};
use musicat::{Analyzer, AudioStream, Models, TrackReport};

use common::fixture;

/// Samples per block the leader relays (another size than the decoder's packets).
const RELAY_BLOCK: usize = 3000;

/// The file analysed whole, and in `count` shares merged, as the app splits it: share 0 decodes
/// the file and measures the descriptors, and relays the decoded mono samples in blocks to the
/// other shares, which are fed them through `start`, `push` and `finish`.
fn whole_and_merged(models: &Models, file: &str, count: u32) -> (TrackReport, TrackReport) {
    let path = fixture(file);
    let whole = Analyzer::new(models).with_descriptors().analyze(AudioStream::open_file(&path).unwrap()).unwrap();
    let mut leader = Analyzer::new(models).with_share(Share { index: 0, count }).with_descriptors();
    let mut followers: Vec<Analyzer> =
        (1..count).map(|index| Analyzer::new(models).with_share(Share { index, count })).collect();
    let mut stream = AudioStream::open_file(&path).unwrap();
    let rate = stream.sample_rate();
    leader.start(rate).unwrap();
    followers.iter_mut().for_each(|f| f.start(rate).unwrap());
    let mut relayed = Vec::new();
    let mut relay = |samples: &[f32], followers: &mut Vec<Analyzer>| {
        followers.iter_mut().for_each(|f| f.push(Chunk::mono(samples), &mut |_| {}).unwrap());
    };
    while let Some(chunk) = stream.next_packet().unwrap() {
        leader.push(chunk, &mut |_| {}).unwrap();
        relayed.extend_from_slice(chunk.mono);
        while relayed.len() >= RELAY_BLOCK {
            relay(&relayed[..RELAY_BLOCK], &mut followers);
            relayed.drain(..RELAY_BLOCK);
        }
    }
    relay(&relayed, &mut followers);
    let duration_s = stream.decoded_seconds();
    let parts = std::iter::once(leader)
        .chain(followers)
        .map(|mut share| share.finish(duration_s, &mut |_| {}).unwrap())
        .collect::<Vec<_>>();
    let classified: usize = parts.iter().map(|p| p.segments.len()).sum();
    assert_eq!(classified, whole.segments.len(), "each segment in exactly one share");
    (whole, merge(parts).unwrap())
}

fn assert_same(whole: &TrackReport, merged: &TrackReport) {
    assert_eq!(merged.segments, whole.segments);
    assert_eq!(merged.descriptors, whole.descriptors);
    assert_eq!(merged.duration_s, whole.duration_s);
    assert_eq!(merged.tasks.keys().collect::<Vec<_>>(), whole.tasks.keys().collect::<Vec<_>>());
    for (task, verdict) in &whole.tasks {
        let got = &merged.tasks[task];
        assert_eq!(got.label, verdict.label, "{task}");
        for (label, score) in &verdict.scores {
            assert!((got.scores[label] - score).abs() < 1e-5, "{task} {label}: {} vs {score}", got.scores[label]);
        }
    }
}

#[test]
fn shares_of_a_track_merge_into_the_whole_report() {
    let models = Models::load_dir(&fixture("models/fixture")).expect("fixture models");
    for count in [2, 3] {
        for file in ["fixtures/audio/music_12s_22050_mono.flac", "fixtures/audio/music_stereo_44100.mp3"] {
            let (whole, merged) = whole_and_merged(&models, file, count);
            assert_same(&whole, &merged);
        }
    }
}

#[test]
fn a_share_of_only_silence_reports_nothing_and_the_merge_still_holds() {
    let models = Models::load_dir(&fixture("models/fixture")).expect("fixture models");
    // 6 s of digital silence then a tone: with 5-s slices, share 0 of 2 may have little but silence.
    let (whole, merged) = whole_and_merged(&models, "fixtures/audio/silence6s_tone6s_16000_mono.wav", 2);
    assert!(whole.segments.iter().any(|s| s.silent));
    assert_same(&whole, &merged);
    let silent_only = Analyzer::new(&models)
        .with_share(Share { index: 5, count: 6 })
        .analyze(AudioStream::open_file(&fixture("fixtures/audio/silence6s_tone6s_16000_mono.wav")).unwrap())
        .unwrap();
    assert!(silent_only.tasks.is_empty() && silent_only.segments.is_empty());
}

#[test]
fn heads_on_the_shipped_backbone_merge_too() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let models = Models::load_dir(&dir).unwrap().select(&["genre".to_string(), "tags".to_string()]).unwrap();
    let (whole, merged) = whole_and_merged(&models, "fixtures/audio/music_12s_22050_mono.flac", 2);
    assert_same(&whole, &merged);
}
