//! The mean autocorrelation tempogram of an onset envelope (`librosa.feature.tempogram` averaged
//! over time): for every lag, how strongly the envelope repeats after that many frames.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::features::stft::periodic_hann;

/// Seconds of envelope each autocorrelation sees (librosa's `ac_size`).
pub const WINDOW_SECONDS: f64 = 8.0;

/// Autocorrelates Hann-windowed stretches of an envelope, one centred on every frame.
pub struct Tempogram {
    window: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    lags: Vec<f32>,
    padded: Vec<f32>,
}

impl Tempogram {
    /// A tempogram for envelopes of `frame_rate` frames per second.
    pub fn new(frame_rate: f64) -> Self {
        let length = (WINDOW_SECONDS * frame_rate).floor() as usize;
        let window = periodic_hann(length);
        let size = (2 * length - 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(size);
        let inverse = planner.plan_fft_inverse(size);
        Self {
            window,
            frame: forward.make_input_vec(),
            spectrum: forward.make_output_vec(),
            lags: inverse.make_output_vec(),
            forward,
            inverse,
            padded: Vec::new(),
        }
    }

    /// Lags per autocorrelation (the window length in frames).
    pub fn lags(&self) -> usize {
        self.window.len()
    }

    /// The time-averaged tempogram of `envelope`: `lags()` values, each frame's autocorrelation
    /// normalised by its largest value first; all zeros for an empty envelope.
    pub fn mean(&mut self, envelope: &[f32]) -> Vec<f32> {
        let length = self.window.len();
        let mut sum = vec![0.0f64; length];
        if envelope.is_empty() {
            return vec![0.0; length];
        }
        self.pad(envelope);
        for t in 0..envelope.len() {
            self.frame.fill(0.0);
            for ((slot, w), x) in self.frame.iter_mut().zip(&self.window).zip(&self.padded[t..t + length]) {
                *slot = x * w;
            }
            // Lengths are fixed by the plans, so the transforms cannot fail.
            let _ = self.forward.process(&mut self.frame, &mut self.spectrum);
            self.spectrum.iter_mut().for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
            let _ = self.inverse.process(&mut self.spectrum, &mut self.lags);
            let peak = self.lags[..length].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if peak > f32::MIN_POSITIVE {
                sum.iter_mut().zip(&self.lags).for_each(|(s, v)| *s += (v / peak) as f64);
            }
        }
        sum.iter().map(|s| (s / envelope.len() as f64) as f32).collect()
    }

    /// Pads half a window on each side with linear ramps from zero (numpy's `linear_ramp`).
    fn pad(&mut self, envelope: &[f32]) {
        let half = self.window.len() / 2;
        let (first, last) = (envelope[0], envelope[envelope.len() - 1]);
        self.padded.clear();
        self.padded.extend((0..half).map(|i| first * i as f32 / half as f32));
        self.padded.extend_from_slice(envelope);
        self.padded.extend((0..half).map(|j| last * (half - 1 - j) as f32 / half as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_periodic_envelope_peaks_at_its_period() {
        let frame_rate = crate::descriptors::DescriptorAnalyzer::frame_rate();
        let envelope: Vec<f32> = (0..2000).map(|t| if t % 20 == 0 { 1.0 } else { 0.0 }).collect();
        let mut tempogram = Tempogram::new(frame_rate);
        assert_eq!(tempogram.lags(), 344);
        let mean = tempogram.mean(&envelope);
        assert!((mean[0] - 1.0).abs() < 1e-4);
        let best = (5..100).max_by(|&a, &b| mean[a].total_cmp(&mean[b])).unwrap();
        assert_eq!(best, 20);
        assert!(mean[10] < 0.05 && mean[20] > 0.8, "{} {}", mean[10], mean[20]);
    }
}
