//! Helpers shared by the integration tests: fixture paths and whole-file decoding.
#![allow(dead_code)]

use std::path::PathBuf;

use musicat::{AudioError, AudioStream};

/// Path of a file under `tests/`.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join(relative)
}

/// Decodes a whole file to mono samples at its own rate.
pub fn decode_all(relative: &str) -> Result<(u32, Vec<f32>), AudioError> {
    let mut stream = AudioStream::open_file(&fixture(relative))?;
    let mut samples = Vec::new();
    while let Some(chunk) = stream.next_chunk()? {
        samples.extend_from_slice(chunk);
    }
    Ok((stream.sample_rate(), samples))
}

/// Reads a raw little-endian `f32` array.
pub fn read_f32(relative: &str) -> Vec<f32> {
    let bytes = std::fs::read(fixture(relative)).expect("reference file");
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// A 16-bit PCM WAV file of interleaved `samples` (clamped to -1..1), `channels` channels at `rate` Hz.
pub fn wav_16bit(rate: u32, channels: u16, samples: &[f32]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let block = 2 * channels;
    let mut wav = Vec::with_capacity(44 + data as usize);
    for part in [&b"RIFF"[..], &(36 + data).to_le_bytes(), b"WAVEfmt ", &16u32.to_le_bytes(), &1u16.to_le_bytes()] {
        wav.extend_from_slice(part);
    }
    let byte_rate = rate * block as u32;
    for part in [&channels.to_le_bytes()[..], &rate.to_le_bytes(), &byte_rate.to_le_bytes(), &block.to_le_bytes()] {
        wav.extend_from_slice(part);
    }
    for part in [&16u16.to_le_bytes()[..], b"data", &data.to_le_bytes()] {
        wav.extend_from_slice(part);
    }
    for s in samples {
        wav.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32_767.0) as i16).to_le_bytes());
    }
    wav
}
