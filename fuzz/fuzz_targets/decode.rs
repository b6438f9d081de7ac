//! Fuzz target: any bytes, under any audio extension, through decoding and one spectrogram.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musicat::features::MelSpectrogram;
use musicat::{AudioStream, FeatureParams};

const EXTENSIONS: [&str; 5] = ["mp3", "wav", "flac", "ogg", "m4a"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let extension = EXTENSIONS[pick as usize % EXTENSIONS.len()];
    let Ok(mut stream) = AudioStream::open_bytes(bytes.to_vec(), Some(extension)) else { return };
    let params = FeatureParams::default();
    let mut samples = Vec::new();
    while samples.len() < params.segment_samples() {
        match stream.next_chunk() {
            Ok(Some(chunk)) => samples.extend_from_slice(chunk),
            Ok(None) | Err(_) => break,
        }
    }
    samples.truncate(params.segment_samples());
    let mut spectrogram = MelSpectrogram::new(&params);
    let mut out = vec![0.0; spectrogram.output_len()];
    spectrogram.model_input_into(&samples, &mut out);
    assert!(out.iter().all(|v| v.is_finite()));
});
