//! Short-time Fourier transform of one segment, frame by frame, as `librosa.stft` computes it
//! (periodic Hann window, centered frames padded with zeros).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// A periodic Hann window of `length` points (`scipy.signal.get_window('hann', length)`).
pub fn periodic_hann(length: usize) -> Vec<f32> {
    (0..length).map(|n| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / length as f64).cos()) as f32).collect()
}

/// Power (or magnitude) spectrum of centered frames; the FFT plan and all buffers are made once.
pub struct PowerStft {
    n_fft: usize,
    hop: usize,
    power: f32,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl PowerStft {
    /// Plans an FFT of `n_fft` points; `power` is 2 for power, 1 for magnitude.
    pub fn new(n_fft: usize, hop: usize, power: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let window = periodic_hann(n_fft);
        Self {
            n_fft,
            hop,
            power,
            window,
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
        }
    }

    /// Number of frequency bins per frame (`1 + n_fft / 2`).
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of centered frames for a signal of `len` samples.
    pub fn frames(&self, len: usize) -> usize {
        1 + len / self.hop
    }

    /// Computes frame `t` of `signal` and writes its `bins()` values into `out`.
    pub fn frame_spectrum(&mut self, signal: &[f32], t: usize, out: &mut [f32]) {
        let half = (self.n_fft / 2) as isize;
        let start = (t * self.hop) as isize - half;
        for (i, (slot, w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
            let at = start + i as isize;
            *slot = if at >= 0 && (at as usize) < signal.len() { signal[at as usize] * w } else { 0.0 };
        }
        self.transform(out);
    }

    /// The spectrum of exactly `n_fft` samples (a frame a caller cut itself, e.g. from a stream).
    pub fn window_spectrum(&mut self, samples: &[f32], out: &mut [f32]) {
        for ((slot, w), s) in self.frame.iter_mut().zip(&self.window).zip(samples) {
            *slot = s * w;
        }
        self.transform(out);
    }

    /// Transforms the windowed frame and writes power (or magnitude) into `out`.
    fn transform(&mut self, out: &mut [f32]) {
        // Lengths are fixed by the plan, so the transform cannot fail.
        let _ = self.fft.process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch);
        let squared = self.power == 2.0;
        for (o, c) in out.iter_mut().zip(&self.spectrum) {
            let p = c.norm_sqr();
            *o = if squared { p } else { p.sqrt() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bin_centred_sine_peaks_in_its_bin() {
        let n_fft = 256;
        let sr = 8000.0;
        let bin = 10;
        let f = bin as f32 * sr / n_fft as f32;
        let signal: Vec<f32> = (0..2048).map(|i| (2.0 * std::f32::consts::PI * f * i as f32 / sr).sin()).collect();
        let mut stft = PowerStft::new(n_fft, 64, 2.0);
        let mut out = vec![0.0; stft.bins()];
        stft.frame_spectrum(&signal, 10, &mut out);
        let peak = out.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(peak, bin);
        // Hann window: coherent gain 0.5, so |X| = n/4 for a unit sine.
        let expected = (n_fft as f32 / 4.0).powi(2);
        assert!((out[bin] - expected).abs() / expected < 1e-3, "{} vs {expected}", out[bin]);
    }

    #[test]
    fn centered_frames_match_librosa_count() {
        let stft = PowerStft::new(2048, 512, 2.0);
        assert_eq!(stft.frames(110_250), 216);
        assert_eq!(stft.frames(66_150), 130);
    }
}
