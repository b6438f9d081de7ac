//! Per-stage benchmark: prints a table of decode / resample / mel / inference / descriptor times
//! for a 30-second and a 3-minute track (median of several runs), and what the descriptors add to
//! classifying. Not a test: it asserts nothing.
//!
//! `cargo bench --bench pipeline` — tracks are synthesised into `target/bench-audio/` (WAV at
//! 44.1 kHz stereo, plus MP3 when `ffmpeg` is on PATH); models come from `models/`, or from
//! the test fixtures when `models/` holds no bundle.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use musicat::{Analyzer, AudioStream, Models, StageTimes};

#[path = "../tests/common/mod.rs"]
mod common;

const RUNS: usize = 5;
const RATE: u32 = 44_100;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (models, models_dir) = match Models::load_dir(&root.join("models")) {
        Ok(m) => (m, root.join("models")),
        Err(_) => {
            let dir = root.join("tests/models/fixture");
            (Models::load_dir(&dir).expect("fixture models"), dir)
        }
    };
    let out_dir = root.join("target/bench-audio");
    std::fs::create_dir_all(&out_dir).expect("bench audio directory");
    let mut tracks = Vec::new();
    for seconds in [30u32, 180] {
        let wav = out_dir.join(format!("synth_{seconds}s.wav"));
        if !wav.exists() {
            write_wav(&wav, &synthesise(seconds));
        }
        tracks.push((seconds, wav.clone()));
        let mp3 = wav.with_extension("mp3");
        if mp3.exists() || encode_mp3(&wav, &mp3) {
            tracks.push((seconds, mp3));
        }
    }
    println!("models: {} ({})", models.task_names().join(", "), models_dir.display());
    println!("median of {RUNS} runs; inference batches split over the cores (MUSICAT_THREADS=1 for one)\n");
    println!(
        "| track | audio | decode ms | resample ms | mel ms | inference ms | descriptors ms | total ms | × real time | descriptors add |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut analyzer = Analyzer::new(&models).with_descriptors();
    let three_minutes = tracks.iter().find(|(s, p)| *s == 180 && p.extension().is_some_and(|e| e == "wav")).cloned();
    for (seconds, path) in tracks {
        let mut runs: Vec<StageTimes> = (0..RUNS).map(|_| time_one(&mut analyzer, &path)).collect();
        runs.sort_by_key(total);
        let median = runs[RUNS / 2];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let format = path.extension().and_then(|e| e.to_str()).unwrap_or("?");
        println!(
            "| {format} 44.1 kHz stereo | {seconds} s | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1}% |",
            ms(median.decode),
            ms(median.resample),
            ms(median.mel),
            ms(median.inference),
            ms(median.descriptors),
            ms(total(&median)),
            seconds as f64 / total(&median).as_secs_f64(),
            100.0 * median.descriptors.as_secs_f64() / (total(&median) - median.descriptors).as_secs_f64()
        );
    }
    if let Some((_, path)) = three_minutes {
        per_task(&models_dir, &models.task_names(), &path);
    }
}

/// One model at a time on the 3-minute WAV: what each task costs on its own.
fn per_task(models_dir: &Path, tasks: &[String], path: &Path) {
    println!("\n| task (alone) | network | total ms per 3-min track | inference ms |\n|---|---|---:|---:|");
    for task in tasks {
        let Ok(models) = Models::load_dir(models_dir).and_then(|m| m.select(std::slice::from_ref(task))) else {
            continue;
        };
        let network =
            models.bundles()[0].sidecar.metrics["validation"]["architecture"].as_str().unwrap_or("pretrained");
        let network = network.to_string();
        let mut analyzer = Analyzer::new(&models);
        let mut runs: Vec<StageTimes> = (0..3).map(|_| time_one(&mut analyzer, path)).collect();
        runs.sort_by_key(total);
        let median = runs[1];
        println!(
            "| {task} | {network} | {:.0} | {:.0} |",
            total(&median).as_secs_f64() * 1000.0,
            median.inference.as_secs_f64() * 1000.0
        );
    }
}

fn total(t: &StageTimes) -> Duration {
    t.decode + t.resample + t.mel + t.inference + t.descriptors
}

fn time_one(analyzer: &mut Analyzer<'_>, path: &Path) -> StageTimes {
    let before = analyzer.times();
    let stream = AudioStream::open_file(path).expect("bench track opens");
    analyzer.analyze(stream).expect("bench track classifies");
    let after = analyzer.times();
    StageTimes {
        decode: after.decode - before.decode,
        resample: after.resample - before.resample,
        mel: after.mel - before.mel,
        inference: after.inference - before.inference,
        descriptors: after.descriptors - before.descriptors,
    }
}

/// Stereo "music": a chord progression with a kick every half second and a little noise.
fn synthesise(seconds: u32) -> Vec<[f32; 2]> {
    let chords = [[261.6, 329.6, 392.0], [220.0, 261.6, 329.6], [174.6, 220.0, 261.6], [196.0, 246.9, 293.7]];
    let mut noise = 0x1234_5678u32;
    (0..seconds * RATE)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let chord = chords[(t / 2.0) as usize % chords.len()];
            let tone: f32 = chord.iter().map(|f| (std::f32::consts::TAU * f * t).sin()).sum::<f32>() * 0.15;
            let beat = t % 0.5;
            let kick = (std::f32::consts::TAU * 60.0 * beat).sin() * (-beat * 30.0).exp() * 0.4;
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let hiss = (noise >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            [tone + kick + hiss * 0.02, tone * 0.8 + kick + hiss * 0.02]
        })
        .collect()
}

fn write_wav(path: &Path, frames: &[[f32; 2]]) {
    let interleaved: Vec<f32> = frames.iter().flatten().copied().collect();
    std::fs::write(path, common::wav_16bit(RATE, 2, &interleaved)).expect("write bench WAV");
}

fn encode_mp3(wav: &Path, mp3: &Path) -> bool {
    Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(wav)
        .args(["-codec:a", "libmp3lame", "-b:a", "192k"])
        .arg(mp3)
        .status()
        .is_ok_and(|s| s.success())
}
