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
