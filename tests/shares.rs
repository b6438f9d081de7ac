//! A track analysed in shares (as the browser app's workers split one file: one decodes and
//! resamples it and relays the samples to the others) and merged gives the report of the track analysed whole:
//! same timeline, same verdicts, same descriptors.

mod common;

use musicat::audio::Chunk;
use std::cell::RefCell;

use musicat::model::backbone::BackboneCache;
use musicat::share::{Assigned, Costs, Dispatch, merge};
use musicat::{Analyzer, AudioStream, ModelBundle, Models, TrackReport};

use common::fixture;

/// Decoded samples per block the leader relays: other sizes than the decoder's packets, shorter
/// and longer than a segment.
const RELAY_BLOCKS: [usize; 2] = [3000, 200_000];

/// A decoded packet the leader keeps until it analyses it: its audio (`None` for the
/// resamplers' last samples) and its samples resampled for each feature configuration.
type Packet = (Option<(Vec<f32>, Vec<f32>, usize)>, Vec<Vec<f32>>);

/// The file analysed whole, and in `count` shares merged, as the app splits it: share 0 (the
/// leader) decodes the file, resamples it for every feature configuration, measures the
/// descriptors and relays the resampled samples in blocks to the other shares, with the segments
/// its [`Dispatch`] gave them among those that start in the audio relayed; they are fed through
/// `start_resampled`, `push_resampled` and `finish`. The leader analyses only packets already
/// relayed. `fixed_ms` plays the leader's own costs measured by each block (segments cost
/// 20 ms), from which it rebalances its share.
fn whole_and_merged(
    models: &Models,
    file: &str,
    count: u32,
    relay_block: usize,
    fixed_ms: impl Fn(usize) -> f64,
) -> (TrackReport, TrackReport) {
    let path = fixture(file);
    let whole = Analyzer::new(models).with_descriptors().analyze(AudioStream::open_file(&path).unwrap()).unwrap();
    let hops_s = Analyzer::new(models).segment_hops_s();
    let dispatch = RefCell::new(Dispatch::new(count as usize - 1, hops_s));
    let mut leader =
        Analyzer::new(models).with_segments(|g, k| dispatch.borrow().leader_takes(g, k)).with_descriptors();
    let assigned: Vec<RefCell<Assigned>> = (1..count).map(|_| RefCell::default()).collect();
    let mut followers: Vec<Analyzer> = assigned
        .iter()
        .map(|mine| Analyzer::new(models).with_segments(move |g, k| mine.borrow().includes(g, k)))
        .collect();
    let mut stream = AudioStream::open_file(&path).unwrap();
    leader.start(stream.sample_rate()).unwrap();
    followers.iter_mut().for_each(|f| f.start_resampled().unwrap());
    // Packets not analysed yet, and the block not relayed yet (per configuration).
    let mut packets: Vec<Packet> = Vec::new();
    let (mut block, mut block_samples, mut blocks): (Vec<Vec<f32>>, usize, usize) = (Vec::new(), 0, 0);
    let mut relay = |block: &[Vec<f32>], decoded_s: f64, followers: &mut Vec<Analyzer>| {
        dispatch.borrow_mut().decide_until(decoded_s);
        let assignments = dispatch.borrow_mut().take_assigned();
        for (i, follower) in followers.iter_mut().enumerate() {
            assigned[i].borrow_mut().add(i as u32 + 1, &assignments);
            follower.push_resampled(block, None, &mut |_| {}).unwrap();
        }
        let costs = Costs { leader_fixed_ms: fixed_ms(blocks), inference_ms: 20.0, inferred: 1 };
        dispatch.borrow_mut().balance(costs);
        blocks += 1;
    };
    let analyse = |packets: &mut Vec<Packet>, leader: &mut Analyzer| {
        for (audio, resampled) in packets.drain(..) {
            let chunk =
                audio.as_ref().map(|(interleaved, mono, channels)| Chunk { mono, interleaved, channels: *channels });
            leader.push_resampled(&resampled, chunk, &mut |_| {}).unwrap();
        }
    };
    let mut ended = false;
    while !ended {
        let mut resampled = Vec::new();
        let audio = match stream.next_packet().unwrap() {
            Some(chunk) => {
                leader.resample(chunk.mono, &mut resampled);
                Some((chunk.interleaved.to_vec(), chunk.mono.to_vec(), chunk.channels))
            }
            None => {
                ended = true;
                leader.flush_resamplers(&mut resampled);
                None
            }
        };
        block.resize_with(resampled.len(), Vec::new);
        block.iter_mut().zip(&resampled).for_each(|(b, r)| b.extend_from_slice(r));
        block_samples += audio.as_ref().map_or(0, |(_, mono, _)| mono.len());
        packets.push((audio, resampled));
        if block_samples >= relay_block || ended {
            relay(&block, stream.decoded_seconds(), &mut followers);
            block.iter_mut().for_each(Vec::clear);
            block_samples = 0;
            analyse(&mut packets, &mut leader);
        }
    }
    let duration_s = stream.decoded_seconds();
    let parts = std::iter::once(leader)
        .chain(followers)
        .map(|mut share| share.finish(duration_s, &mut |_| {}).unwrap())
        .collect::<Vec<_>>();
    let classified: Vec<usize> = parts.iter().map(|p| p.segments.len()).collect();
    assert_eq!(classified.iter().sum::<usize>(), whole.segments.len(), "each segment in exactly one share");
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
    // The leader's own work costing nothing (an even split), more than every segment (it keeps
    // only the first), and in between.
    let costs: [fn(usize) -> f64; 3] = [|_| 0.0, |_| 1e9, |block| (block % 7) as f64 * 30.0];
    for count in [2, 3] {
        for file in ["fixtures/audio/music_12s_22050_mono.flac", "fixtures/audio/music_stereo_44100.mp3"] {
            for (fixed_ms, relay_block) in costs.into_iter().flat_map(|c| RELAY_BLOCKS.map(|b| (c, b))) {
                let (whole, merged) = whole_and_merged(&models, file, count, relay_block, fixed_ms);
                assert_same(&whole, &merged);
            }
        }
    }
}

#[test]
fn a_share_of_only_silence_reports_nothing_and_the_merge_still_holds() {
    let models = Models::load_dir(&fixture("models/fixture")).expect("fixture models");
    // 6 s of digital silence then a tone: a share may have little but silence.
    let (whole, merged) =
        whole_and_merged(&models, "fixtures/audio/silence6s_tone6s_16000_mono.wav", 2, RELAY_BLOCKS[0], |_| 0.0);
    assert!(whole.segments.iter().any(|s| s.silent));
    assert_same(&whole, &merged);
    let silent_only = Analyzer::new(&models)
        .with_segments(|_, _| false)
        .analyze(AudioStream::open_file(&fixture("fixtures/audio/silence6s_tone6s_16000_mono.wav")).unwrap())
        .unwrap();
    assert!(silent_only.tasks.is_empty() && silent_only.segments.is_empty());
}

#[test]
fn heads_on_the_shipped_backbone_merge_too() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let models = Models::load_dir(&dir).unwrap().select(&["genre".to_string(), "tags".to_string()]).unwrap();
    let (whole, merged) =
        whole_and_merged(&models, "fixtures/audio/music_12s_22050_mono.flac", 2, RELAY_BLOCKS[1], |block| {
            (block % 5) as f64 * 30.0
        });
    assert_same(&whole, &merged);
}

#[test]
fn two_feature_configurations_are_resampled_and_relayed_each_at_its_rate() {
    // A from-scratch model at 22.05 kHz beside musicnn's tags at 16 kHz: two resamplers, two
    // relayed streams.
    let mut backbones = BackboneCache::default();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tags.onnx");
    let bundles = [fixture("models/fixture/mood.onnx"), shipped]
        .iter()
        .map(|p| ModelBundle::from_files_sharing(p, &mut backbones).unwrap())
        .collect();
    let models = Models::new(bundles);
    assert_eq!(Analyzer::new(&models).segment_hops_s().len(), 2);
    for (count, relay_block) in [(2, RELAY_BLOCKS[0]), (3, RELAY_BLOCKS[1])] {
        let (whole, merged) =
            whole_and_merged(&models, "fixtures/audio/music_stereo_44100.mp3", count, relay_block, |block| {
                (block % 3) as f64 * 40.0
            });
        assert_same(&whole, &merged);
    }
}
