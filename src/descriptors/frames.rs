//! Centered STFT frames of a stream, computed as samples arrive (librosa's `center=True`,
//! zero padding), so a whole track never has to sit in memory.

use crate::features::stft::PowerStft;

/// Cuts a stream into centered frames and hands each frame's power spectrum to a callback.
pub struct StreamingStft {
    stft: PowerStft,
    n_fft: usize,
    hop: usize,
    buffer: Vec<f32>,
    spectrum: Vec<f32>,
    samples: u64,
    frames: u64,
}

impl StreamingStft {
    /// Frames of `n_fft` samples every `hop` samples.
    pub fn new(n_fft: usize, hop: usize) -> Self {
        let stft = PowerStft::new(n_fft, hop, 2.0);
        let spectrum = vec![0.0; stft.bins()];
        let mut frames =
            Self { stft, n_fft, hop, buffer: Vec::with_capacity(2 * n_fft), spectrum, samples: 0, frames: 0 };
        frames.reset();
        frames
    }

    /// Forgets the stream so far (a new track starts).
    pub fn reset(&mut self) {
        self.buffer.clear();
        self.buffer.resize(self.n_fft / 2, 0.0);
        self.samples = 0;
        self.frames = 0;
    }

    /// Frequency bins per spectrum.
    pub fn bins(&self) -> usize {
        self.stft.bins()
    }

    /// Adds samples; calls `on_frame` with the power spectrum of every frame they complete.
    pub fn push(&mut self, samples: &[f32], on_frame: &mut impl FnMut(&[f32])) {
        self.samples += samples.len() as u64;
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.n_fft - self.buffer.len()).min(rest.len()); // emit_full keeps it below n_fft
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.emit_full(on_frame, u64::MAX);
        }
    }

    /// Ends the stream: pads with zeros and emits the last frames, `1 + samples / hop` in all.
    pub fn finish(&mut self, on_frame: &mut impl FnMut(&[f32])) {
        let total = 1 + self.samples / self.hop as u64;
        self.buffer.resize(self.buffer.len() + self.n_fft / 2, 0.0);
        // Frame t ends at t·hop + n_fft in the padded signal, so every frame up to L / hop is here.
        self.emit_full(on_frame, total);
    }

    fn emit_full(&mut self, on_frame: &mut impl FnMut(&[f32]), limit: u64) {
        while self.buffer.len() >= self.n_fft && self.frames < limit {
            self.stft.window_spectrum(&self.buffer[..self.n_fft], &mut self.spectrum);
            on_frame(&self.spectrum);
            self.frames += 1;
            self.buffer.drain(..self.hop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_frames_equal_whole_signal_frames() {
        let signal: Vec<f32> = (0..10_000).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
        let mut whole = PowerStft::new(512, 128, 2.0);
        let mut expected = Vec::new();
        for t in 0..whole.frames(signal.len()) {
            let mut out = vec![0.0; whole.bins()];
            whole.frame_spectrum(&signal, t, &mut out);
            expected.push(out);
        }
        let mut streamed = StreamingStft::new(512, 128);
        let mut got: Vec<Vec<f32>> = Vec::new();
        for chunk in signal.chunks(777) {
            streamed.push(chunk, &mut |s| got.push(s.to_vec()));
        }
        streamed.finish(&mut |s| got.push(s.to_vec()));
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert!(g.iter().zip(e).all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0)));
        }
    }
}
