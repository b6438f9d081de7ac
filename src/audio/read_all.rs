//! Whole-clip decoding for short files (training data, tests): mono samples at a chosen rate.

use super::decode::AudioStream;
use super::error::AudioError;
use super::resample::StreamResampler;

/// Decodes the whole stream and resamples it to `rate` Hz.
pub fn read_all(mut stream: AudioStream, rate: u32) -> Result<Vec<f32>, AudioError> {
    let mut resampler = StreamResampler::new(stream.sample_rate(), rate)?;
    let mut samples = Vec::new();
    while let Some(chunk) = stream.next_chunk()? {
        resampler.push(chunk, |block| samples.extend_from_slice(block));
    }
    resampler.finish(|block| samples.extend_from_slice(block));
    Ok(samples)
}
