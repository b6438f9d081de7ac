//! The trainer's speed-changed copies: a file played 6% faster is a semitone higher and 6%
//! shorter, one played slower lower and longer.
#![cfg(feature = "train")]

mod common;

use musicat::training::embeddings::{COPY_SPEEDS, played_at};

/// Zero crossings per second of `samples` at `rate` Hz, halved: a sine's frequency.
fn frequency(samples: &[f32], rate: u32) -> f32 {
    let crossings = samples.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    crossings as f32 / 2.0 / (samples.len() as f32 / rate as f32)
}

#[test]
fn a_copy_played_faster_is_higher_and_shorter() {
    let path = std::env::temp_dir().join(format!("musicat-speed-{}.wav", std::process::id()));
    let tone: Vec<f32> =
        (0..44_100).map(|i| 0.5 * (std::f32::consts::TAU * 1000.0 * i as f32 / 44_100.0).sin()).collect();
    std::fs::write(&path, common::wav_16bit(44_100, 1, &tone)).unwrap();
    for speed in [1.0].into_iter().chain(COPY_SPEEDS) {
        let samples = played_at(&path, 16_000, speed).unwrap();
        let seconds = samples.len() as f32 / 16_000.0;
        assert!((seconds - 1.0 / speed).abs() < 0.01, "speed {speed}: {seconds} s");
        let measured = frequency(&samples[1000..samples.len() - 1000], 16_000);
        assert!((measured - 1000.0 * speed).abs() < 3.0, "speed {speed}: {measured} Hz, expected {}", 1000.0 * speed);
    }
    let _ = std::fs::remove_file(path);
}
