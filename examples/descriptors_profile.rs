//! Time of each stage of the descriptors (loudness, peaks, resampling, STFT, onsets, chroma, the
//! end-of-track analysis) on one decoded file, to see which stage dominates (each the best of 5 runs):
//! `cargo run --release --example descriptors_profile FILE`; in WebAssembly, built for
//! wasm32-wasip1 and run under node with `bench/wasi.mjs` (relative paths only).

use std::time::{Duration, Instant};

use musicat::audio::{AudioStream, StreamResampler};
use musicat::descriptors::chroma::ChromaAccumulator;
use musicat::descriptors::frames::StreamingStft;
use musicat::descriptors::onset::OnsetDetector;
use musicat::descriptors::r128::R128Meter;
use musicat::descriptors::true_peak::PeakMeter;
use musicat::descriptors::{DescriptorAnalyzer, HOP, N_FFT, SAMPLE_RATE};

/// The decoded track, packet by packet.
struct Decoded {
    rate: u32,
    channels: usize,
    interleaved: Vec<Vec<f32>>,
    mono: Vec<Vec<f32>>,
}

fn decode(path: &str) -> Result<(Decoded, Duration), String> {
    let started = Instant::now();
    let mut stream = AudioStream::open_file(path.as_ref()).map_err(|e| e.to_string())?;
    let mut decoded = Decoded { rate: stream.sample_rate(), channels: 0, interleaved: Vec::new(), mono: Vec::new() };
    while let Some(chunk) = stream.next_packet().map_err(|e| e.to_string())? {
        decoded.channels = chunk.channels;
        decoded.interleaved.push(chunk.interleaved.to_vec());
        decoded.mono.push(chunk.mono.to_vec());
    }
    Ok((decoded, started.elapsed()))
}

/// Runs a stage `RUNS` times on fresh state and keeps its best time (the VM's speed swings).
fn timed<T>(rows: &mut Vec<(&'static str, Duration)>, name: &'static str, mut run: impl FnMut() -> T) -> T {
    const RUNS: usize = 5;
    let mut best = Duration::MAX;
    let mut result = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        result = Some(run());
        best = best.min(started.elapsed());
    }
    rows.push((name, best));
    result.expect("RUNS > 0")
}

fn main() -> Result<(), String> {
    let path = std::env::args().nth(1).ok_or("usage: descriptors_profile FILE")?;
    let (track, decode_time) = decode(&path)?;
    let seconds = track.mono.iter().map(Vec::len).sum::<usize>() as f64 / track.rate as f64;
    // Warm-up (in WebAssembly the optimising compiler takes over after a while) and the whole.
    let mut analyzer = DescriptorAnalyzer::new();
    let mut whole = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        analyzer.reset(track.rate).map_err(|e| e.to_string())?;
        for (interleaved, mono) in track.interleaved.iter().zip(&track.mono) {
            analyzer.push(musicat::audio::Chunk { mono, interleaved, channels: track.channels });
        }
        std::hint::black_box(analyzer.finish());
        whole = whole.min(started.elapsed());
    }

    let mut rows = vec![("decode (not part of the descriptors)", decode_time)];
    let (rate, channels) = (track.rate, track.channels);
    let lufs = timed(&mut rows, "R128 loudness", || {
        let mut meter = R128Meter::new(rate, channels);
        track.interleaved.iter().for_each(|p| meter.push(p));
        meter.integrated_lufs()
    });
    let peaks = timed(&mut rows, "sample + true peak", || {
        let mut meter = PeakMeter::new(rate, channels);
        track.interleaved.iter().for_each(|p| meter.push(p));
        meter.true_peaks()
    });
    let resample = |to: u32| {
        let mut out = Vec::new();
        let mut resampler = StreamResampler::new(rate, to).expect("a common rate");
        track.mono.iter().for_each(|p| resampler.push(p, |b| out.extend_from_slice(b)));
        resampler.finish(|b| out.extend_from_slice(b));
        out
    };
    // With the shipped models the analyzer resamples once, for the models and the descriptors.
    let resampled =
        timed(&mut rows, "resample to the descriptors' rate (shared with the models)", || resample(SAMPLE_RATE));
    let spectra = timed(&mut rows, "STFT", || {
        let mut spectra: Vec<f32> = Vec::new();
        let mut stft = StreamingStft::new(N_FFT, HOP);
        for block in resampled.chunks(4096) {
            stft.push(block, &mut |s| spectra.extend_from_slice(s));
        }
        stft.finish(&mut |s| spectra.extend_from_slice(s));
        spectra
    });
    let bins = N_FFT / 2 + 1;
    let onsets = timed(&mut rows, "onset envelope", || {
        let mut onsets = OnsetDetector::new(SAMPLE_RATE, N_FFT);
        spectra.chunks_exact(bins).for_each(|s| onsets.push(s));
        onsets.envelope().len()
    });
    let chroma = timed(&mut rows, "chroma", || {
        let mut chroma = ChromaAccumulator::new(SAMPLE_RATE, N_FFT);
        spectra.chunks_exact(bins).for_each(|s| chroma.push(s));
        chroma.profile()
    });
    std::hint::black_box((lufs, peaks, onsets, chroma));

    println!(
        "{path}: {seconds:.1} s of audio at {} Hz, {} channel(s); analysis at {SAMPLE_RATE} Hz, STFT of {N_FFT} every {HOP}",
        track.rate, track.channels
    );
    println!("| stage | ms |\n|---|---:|");
    for (name, time) in &rows {
        println!("| {name} | {:.1} |", time.as_secs_f64() * 1000.0);
    }
    println!("| all descriptors together (best of 3) | {:.1} |", whole.as_secs_f64() * 1000.0);
    Ok(())
}
