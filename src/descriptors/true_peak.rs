//! Sample peak and true peak (EBU R128, ITU-R BS.1770: the signal oversampled 4× below 96 kHz, 2×
//! below 192 kHz) with exactly the `ebur128` crate's interpolation filter and arithmetic, so the
//! same values as its `Mode::TRUE_PEAK`, but skipping every stretch of samples too small to raise
//! the peak found so far: most of a track, where `ebur128` interpolates every sample.

use super::larger;

/// Interpolation filter length over all phases (the `ebur128` crate's `TAPS`).
const TAPS: usize = 48;
/// Output positions per stretch tested against the peak so far (at least `TAPS / 2 - 1`, so a
/// stretch's inputs reach back into the previous stretch only).
const STRETCH: usize = 64;

/// Measures one stream's peaks; its channel count is fixed by [`PeakMeter::new`].
#[derive(Debug, Clone)]
pub struct PeakMeter {
    /// Oversampling factor: 4, 2, or 1 (no interpolation, true peak = sample peak).
    factor: usize,
    /// Filter taps per phase (`TAPS / factor`).
    taps: usize,
    /// `filter[tap * factor + phase]`.
    filter: Vec<f32>,
    /// Largest gain of any phase on a signal bounded by 1 (the sum of its taps' magnitudes),
    /// with a margin for rounding.
    gain: f32,
    /// Per channel: the previous `taps - 1` samples, then the ones being scanned.
    lines: Vec<Vec<f32>>,
    sample_peaks: Vec<f32>,
    true_peaks: Vec<f32>,
}

impl PeakMeter {
    /// A meter for `channels` channels at `rate` Hz.
    pub fn new(rate: u32, channels: usize) -> Self {
        let factor = match rate {
            ..96_000 => 4,
            96_000..192_000 => 2,
            _ => 1,
        };
        let filter = if factor > 1 { interpolation_filter(factor) } else { Vec::new() };
        let taps = TAPS / factor;
        let gain = (0..factor)
            .filter(|_| factor > 1)
            .map(|phase| (0..taps).map(|tap| filter[tap * factor + phase].abs()).sum::<f32>())
            .fold(0.0f32, f32::max)
            * 1.001;
        Self {
            factor,
            taps,
            filter,
            gain,
            lines: vec![vec![0.0; taps - 1]; channels],
            sample_peaks: vec![0.0; channels],
            true_peaks: vec![0.0; channels],
        }
    }

    /// Adds interleaved samples (the meter's channel count per frame).
    pub fn push(&mut self, interleaved: &[f32]) {
        let channels = self.lines.len();
        let history = self.taps - 1;
        for c in 0..channels {
            let mut line = std::mem::take(&mut self.lines[c]);
            line.extend(interleaved.iter().skip(c).step_by(channels));
            let (sample_peak, true_peak) = self.scan(&line, history, self.sample_peaks[c].max(self.true_peaks[c]));
            self.sample_peaks[c] = self.sample_peaks[c].max(sample_peak);
            self.true_peaks[c] = self.true_peaks[c].max(true_peak);
            line.drain(..line.len() - history);
            self.lines[c] = line;
        }
    }

    /// Scans `line`'s positions from `history` on; returns its sample peak and true peak (the
    /// latter only as far as it exceeds `peak`, the channel's peak so far).
    fn scan(&self, line: &[f32], history: usize, mut peak: f32) -> (f32, f32) {
        let (mut sample_peak, mut true_peak) = (0.0f32, 0.0f32);
        let mut previous_max = line[..history].iter().fold(0.0f32, |m, v| larger(m, v.abs()));
        let mut start = history;
        while start < line.len() {
            let end = (start + STRETCH).min(line.len());
            let stretch_max = line[start..end].iter().fold(0.0f32, |m, v| larger(m, v.abs()));
            sample_peak = sample_peak.max(stretch_max);
            peak = peak.max(stretch_max);
            if self.factor > 1 && stretch_max.max(previous_max) * self.gain > peak {
                let interpolated = self.interpolate(line, start, end);
                true_peak = true_peak.max(interpolated);
                peak = peak.max(interpolated);
            }
            previous_max = stretch_max;
            start = end;
        }
        (sample_peak, true_peak)
    }

    /// The largest |interpolated sample| for the input positions `start..end` of `line`, computed
    /// as `ebur128`'s interpolator does (newest tap first, one multiply-add at a time in f32).
    fn interpolate(&self, line: &[f32], start: usize, end: usize) -> f32 {
        let (factor, taps) = (self.factor, self.taps);
        let mut largest = 0.0f32;
        for n in start..end {
            let mut outputs = [0.0f32; 4];
            for tap in 0..taps {
                let x = line[n - tap];
                let coefficients = &self.filter[tap * factor..(tap + 1) * factor];
                for (output, h) in outputs.iter_mut().zip(coefficients) {
                    *output += x * h;
                }
            }
            largest = outputs[..factor].iter().fold(largest, |m, v| larger(m, v.abs()));
        }
        largest
    }

    /// Highest |sample| per channel.
    pub fn sample_peaks(&self) -> &[f32] {
        &self.sample_peaks
    }

    /// Highest |sample| of the oversampled signal per channel (at least its sample peak, as
    /// `ebur128` reports it).
    pub fn true_peaks(&self) -> Vec<f32> {
        self.sample_peaks.iter().zip(&self.true_peaks).map(|(s, t)| s.max(*t)).collect()
    }
}

/// The `ebur128` crate's interpolation filter: a Hann-windowed sinc over `TAPS` taps, as
/// `[tap][phase]`.
fn interpolation_filter(factor: usize) -> Vec<f32> {
    let window = TAPS as f64;
    (0..TAPS)
        .map(|j| {
            let j = j as f64;
            let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j / window).cos());
            let m = j - window / 2.0;
            let x = m * std::f64::consts::PI / factor as f64;
            (if m.abs() > 0.000001 { w * x.sin() / x } else { w }) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::test_signal::music_like as signal;
    use ebur128::{EbuR128, Mode};

    /// `ebur128`'s sample and true peaks of `interleaved`, fed in `chunk`-frame pieces.
    fn reference(rate: u32, channels: usize, interleaved: &[f32], chunk: usize) -> (Vec<f64>, Vec<f64>) {
        let mut meter = EbuR128::new(channels as u32, rate, Mode::SAMPLE_PEAK | Mode::TRUE_PEAK).unwrap();
        for piece in interleaved.chunks(chunk * channels) {
            meter.add_frames_f32(piece).unwrap();
        }
        let c = 0..channels as u32;
        (c.clone().map(|c| meter.sample_peak(c).unwrap()).collect(), c.map(|c| meter.true_peak(c).unwrap()).collect())
    }

    fn measured(rate: u32, channels: usize, interleaved: &[f32], chunk: usize) -> (Vec<f64>, Vec<f64>) {
        let mut meter = PeakMeter::new(rate, channels);
        for piece in interleaved.chunks(chunk * channels) {
            meter.push(piece);
        }
        let wide = |v: &[f32]| v.iter().map(|&p| p as f64).collect::<Vec<_>>();
        (wide(meter.sample_peaks()), wide(&meter.true_peaks()))
    }

    #[test]
    fn peaks_equal_ebur128s_at_every_oversampling_factor_and_chunking() {
        for (rate, channels) in [(44_100, 2), (48_000, 1), (22_050, 3), (96_000, 2), (192_000, 1)] {
            let audio = signal(rate, channels, 3.0);
            for chunk in [1152, 37, 4096] {
                assert_eq!(
                    measured(rate, channels, &audio, chunk),
                    reference(rate, channels, &audio, chunk),
                    "{rate} Hz, {channels} ch, chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn an_inter_sample_peak_above_the_samples_is_found() {
        // A quarter-rate sine sampled 45° off its crests: every sample is at 0.707 of the crest.
        let audio: Vec<f32> = (0..48_000)
            .map(|i| (std::f64::consts::FRAC_PI_2 * (i % 4) as f64 + std::f64::consts::FRAC_PI_4).sin() as f32)
            .collect();
        let (sample, true_peak) = measured(48_000, 1, &audio, 1024);
        assert!(
            (sample[0] as f32 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3 && true_peak[0] > 0.95,
            "{sample:?} {true_peak:?}"
        );
        assert_eq!((sample, true_peak), reference(48_000, 1, &audio, 1024));
    }

    #[test]
    fn silence_peaks_at_zero() {
        assert_eq!(measured(44_100, 2, &vec![0.0; 88_200], 1000), (vec![0.0; 2], vec![0.0; 2]));
    }
}
