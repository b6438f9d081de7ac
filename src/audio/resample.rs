//! Streaming sample-rate conversion of mono audio to a model's rate (rubato's FFT resampler).

use super::AudioError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Input frames per resampler call.
const CHUNK: usize = 1024;

/// Resamples a mono stream chunk by chunk; passes samples through when the rates are equal.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    ratio: f64,
    pending: Vec<f32>,
    output: Vec<f32>,
    to_skip: usize,
    consumed: u64,
    produced: u64,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz; a rate pair rubato refuses is a header error.
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        let ratio = to as f64 / from as f64;
        let inner = if from == to {
            None
        } else {
            Some(
                Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
                    .map_err(|e| AudioError::BadHeader(format!("cannot resample {from} Hz to {to} Hz: {e}")))?,
            )
        };
        let (to_skip, out_max) = inner.as_ref().map_or((0, 0), |r| (r.output_delay(), r.output_frames_max()));
        Ok(Self {
            inner,
            ratio,
            pending: Vec::with_capacity(2 * CHUNK),
            output: vec![0.0; out_max],
            to_skip,
            consumed: 0,
            produced: 0,
        })
    }

    /// Adds input samples; calls `on_output` with each block of resampled samples.
    pub fn push(&mut self, samples: &[f32], mut on_output: impl FnMut(&[f32])) {
        let Some(inner) = self.inner.as_mut() else {
            on_output(samples);
            return;
        };
        self.consumed += samples.len() as u64;
        let mut rest = samples;
        while !rest.is_empty() {
            let need = inner.input_frames_next() - self.pending.len();
            let take = need.min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == inner.input_frames_next() {
                Self::run(
                    inner,
                    &self.pending,
                    None,
                    &mut self.output,
                    &mut self.to_skip,
                    &mut self.produced,
                    &mut on_output,
                );
                self.pending.clear();
            }
        }
    }

    /// Flushes the samples still inside the resampler, ending the stream.
    pub fn finish(&mut self, mut on_output: impl FnMut(&[f32])) {
        let Some(inner) = self.inner.as_mut() else { return };
        let target = (self.consumed as f64 * self.ratio).round() as u64;
        let mut partial = Some(self.pending.len());
        self.pending.resize(inner.input_frames_next(), 0.0);
        // Between rates with a small common divisor (44,100 -> 17,021 Hz) rubato works in large
        // internal blocks, so a call may output nothing: feed silence until the delayed output and
        // one whole block have come out.
        let flush = (inner.output_delay() + inner.output_frames_max()) as f64 / self.ratio;
        let calls = (flush / inner.input_frames_next() as f64).ceil() as usize + 2;
        for _ in 0..calls {
            if self.produced >= target {
                break;
            }
            let remaining = target - self.produced;
            let mut emit = |block: &[f32]| {
                let keep = block.len().min(remaining as usize);
                on_output(&block[..keep]);
            };
            Self::run(
                inner,
                &self.pending,
                partial.take(),
                &mut self.output,
                &mut self.to_skip,
                &mut self.produced,
                &mut emit,
            );
            self.produced = self.produced.min(target);
            self.pending.fill(0.0);
        }
        self.pending.clear();
    }

    fn run(
        inner: &mut Fft<f32>,
        input: &[f32],
        partial: Option<usize>,
        output: &mut [f32],
        to_skip: &mut usize,
        produced: &mut u64,
        on_output: &mut impl FnMut(&[f32]),
    ) {
        let frames_in = inner.input_frames_next();
        let frames_out = output.len();
        let (Ok(adapter_in), Ok(mut adapter_out)) =
            (InterleavedSlice::new(input, 1, frames_in), InterleavedSlice::new_mut(output, 1, frames_out))
        else {
            return;
        };
        let indexing = partial.map(|n| Indexing::new().partial_len(n));
        // Buffer sizes are fixed by the resampler itself, so processing cannot fail.
        let Ok((_, written)) = inner.process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref()) else {
            return;
        };
        let skip = (*to_skip).min(written);
        *to_skip -= skip;
        let block = &output[skip..written];
        if !block.is_empty() {
            *produced += block.len() as u64;
            on_output(block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resample_all(from: u32, to: u32, signal: &[f32], chunk: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(from, to).unwrap();
        let mut out = Vec::new();
        for c in signal.chunks(chunk) {
            r.push(c, |b| out.extend_from_slice(b));
        }
        r.finish(|b| out.extend_from_slice(b));
        out
    }

    fn sine(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn output_length_follows_the_ratio_and_the_phase_is_kept() {
        // 44,100 -> 17,021 Hz: rates with no large common divisor, where rubato outputs in
        // blocks of a second (the tail used to be cut at the first call that gave nothing).
        for (from, to) in [(44_100, 22_050), (48_000, 22_050), (8_000, 22_050), (192_000, 22_050), (44_100, 17_021)] {
            let input = sine(440.0, from, 1.0);
            let out = resample_all(from, to, &input, 777);
            assert_eq!(out.len(), to as usize, "{from} -> {to}");
            let expected = sine(440.0, to, 1.0);
            // Away from the edges the resampled sine matches the ideal one, delay compensated
            // to the nearest output sample (a residual offset under half a sample remains).
            let middle = 2000..to as usize - 2000;
            let err =
                out[middle.clone()].iter().zip(&expected[middle]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(err < 0.1, "{from} -> {to}: max error {err}");
        }
    }

    #[test]
    fn a_stream_of_whole_resampler_chunks_is_flushed_to_its_full_length() {
        for (from, to) in [(44_100, 16_000), (44_100, 17_021), (48_000, 15_094)] {
            let chunk = Fft::<f32>::new(from, to, CHUNK, 1, FixedSync::Input).unwrap().input_frames_next();
            for chunks in [1, 3] {
                let input = sine(440.0, from as u32, (chunks * chunk) as f32 / from as f32 + 1e-6);
                assert_eq!(input.len(), chunks * chunk);
                let out = resample_all(from as u32, to as u32, &input, 1000);
                let expected = (input.len() as f64 * to as f64 / from as f64).round() as usize;
                assert_eq!(out.len(), expected, "{from} -> {to}, {chunks} chunks of {chunk}");
            }
        }
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = sine(100.0, 22_050, 0.1);
        assert_eq!(resample_all(22_050, 22_050, &input, 100), input);
    }
}
