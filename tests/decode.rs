//! Every supported format, bit depth, rate and channel layout decodes to the right mono signal.

mod common;

use common::{decode_all, fixture};
use musicat::AudioStream;

/// Peak of the normalised cross-correlation-free check: RMS of a signal.
fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn wav_sample_formats_decode_to_the_same_signal() {
    let (rate, reference) = decode_all("fixtures/audio/tone_s16_22050_mono.wav").unwrap();
    assert_eq!((rate, reference.len()), (22_050, 22_050));
    assert!(rms(&reference) > 0.1);
    for (format, tolerance) in [("u8", 1.0 / 64.0), ("s24", 1e-4), ("s32", 1e-4), ("f32", 1e-4), ("f64", 1e-4)] {
        let name = format!("fixtures/audio/tone_{format}_22050_mono.wav");
        let (rate, samples) = decode_all(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((rate, samples.len()), (22_050, 22_050), "{name}");
        let worst = samples.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= tolerance, "{name}: differs from 16-bit by {worst}");
    }
    let (_, tag3) = decode_all("fixtures/audio/tone_f32_22050_mono_tag3.wav").unwrap();
    assert_eq!(tag3.len(), 22_050);
}

#[test]
fn every_sample_rate_from_8k_to_192k_is_read() {
    for (name, rate) in [
        ("tone_s16_8000_mono.wav", 8_000),
        ("tone_s16_44100_mono.wav", 44_100),
        ("tone_s16_48000_mono.wav", 48_000),
        ("tone_s16_96000_mono.flac", 96_000),
        ("tone_s16_192000_mono.flac", 192_000),
    ] {
        let (got, samples) = decode_all(&format!("fixtures/audio/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, rate, "{name}");
        assert_eq!(samples.len(), rate as usize, "{name}: one second");
        assert!(rms(&samples) > 0.1, "{name}: not silent");
    }
}

#[test]
fn stereo_and_surround_are_averaged_to_mono() {
    let (_, stereo) = decode_all("fixtures/audio/tone_s16_22050_stereo.wav").unwrap();
    assert_eq!(stereo.len(), 22_050);
    for name in ["tone_s16_22050_5.1.wav", "tone_s16_22050_5.1.flac"] {
        let (rate, samples) = decode_all(&format!("fixtures/audio/{name}")).unwrap();
        assert_eq!(rate, 22_050);
        assert!(samples.len() >= 22_050 && rms(&samples) > 0.01, "{name}");
        assert!(samples.iter().all(|s| s.abs() <= 1.0), "{name}: averaging keeps the range");
    }
}

#[test]
fn compressed_formats_decode_six_seconds_of_music() {
    for name in
        ["music_stereo_44100.mp3", "music_stereo_22050.flac", "music_stereo_44100.ogg", "music_stereo_44100.m4a"]
    {
        let (rate, samples) = decode_all(&format!("fixtures/audio/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let seconds = samples.len() as f64 / rate as f64;
        assert!((5.9..6.1).contains(&seconds), "{name}: {seconds} s");
        assert!(rms(&samples) > 0.02, "{name}: rms {}", rms(&samples));
    }
}

#[test]
fn bytes_in_memory_decode_like_files() {
    let bytes = std::fs::read(fixture("fixtures/audio/music_stereo_44100.ogg")).unwrap();
    let mut stream = AudioStream::open_bytes(bytes, Some("ogg")).unwrap();
    let mut total = 0;
    while let Some(chunk) = stream.next_chunk().unwrap() {
        total += chunk.len();
    }
    let (_, from_file) = decode_all("fixtures/audio/music_stereo_44100.ogg").unwrap();
    assert_eq!(total, from_file.len());
}
