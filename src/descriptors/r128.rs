//! EBU R128 integrated loudness and loudness range, streamed: the `ebur128` crate's K-weighting
//! filter and gating (`Mode::I | Mode::LRA`, every block kept), with each 100-ms stretch's
//! energy summed once, so a 400-ms or 3-s block costs 4 or 30 additions where `ebur128` sums its
//! samples again (a third of the descriptors' time on a 3-minute track).

/// Lowest block energy kept (−70 LUFS, ITU-R BS.1770's absolute gate, as `ebur128` drops
/// energies below its lowest histogram boundary).
fn absolute_gate() -> f64 {
    10f64.powf((-70.0 + 0.691) / 10.0)
}

/// Loudness (LUFS) of a mean-square energy.
fn loudness(energy: f64) -> f64 {
    10.0 * energy.log10() - 0.691
}

/// 100-ms stretches per gating block of the integrated loudness (400 ms).
const MOMENTARY: usize = 4;
/// 100-ms stretches per short-term block of the loudness range (3 s).
const SHORT_TERM: usize = 30;
/// 100-ms stretches between two short-term blocks (`ebur128` measures one every second).
const SHORT_TERM_EVERY: usize = 10;

/// Measures one stream's loudness; its channel count is fixed by [`R128Meter::new`].
#[derive(Debug, Clone)]
pub struct R128Meter {
    /// K-weighting (pre-filter and RLB high-pass in one 4th-order section): numerator, denominator.
    b: [f64; 5],
    a: [f64; 5],
    /// Per channel: the filter's last four internal values, newest first.
    states: Vec<[f64; 4]>,
    /// Per channel: the weight of its energy (ITU-R BS.1770 channel map), 0 for unused channels.
    weights: Vec<f64>,
    /// The channels with a weight.
    used: Vec<usize>,
    /// Frames per 100-ms stretch (`(rate + 5) / 10`, as `ebur128`).
    stretch: usize,
    /// Frames of the current stretch so far, and its energy per channel.
    filled: usize,
    sums: Vec<f64>,
    /// Weighted energy of the last [`SHORT_TERM`] stretches, newest last.
    recent: Vec<f64>,
    /// Stretches completed.
    stretches: usize,
    /// Mean-square energies of the gating blocks and short-term blocks above the absolute gate.
    blocks: Vec<f64>,
    short_terms: Vec<f64>,
}

impl R128Meter {
    /// A meter for `channels` channels at `rate` Hz, weighted as `ebur128`'s default channel map
    /// (L, R, C, LFE unused, Ls, Rs; 4 channels: L, R, Ls, Rs; 5: L, R, C, Ls, Rs).
    pub fn new(rate: u32, channels: usize) -> Self {
        let (b, a) = k_weighting(rate as f64);
        let surround = 1.41;
        let weights: Vec<f64> = match channels {
            4 => vec![1.0, 1.0, surround, surround],
            5 => vec![1.0, 1.0, 1.0, surround, surround],
            _ => {
                (0..channels).map(|c| [1.0, 1.0, 1.0, 0.0, surround, surround].get(c).copied().unwrap_or(0.0)).collect()
            }
        };
        Self {
            b,
            a,
            states: vec![[0.0; 4]; channels],
            used: (0..channels).filter(|&c| weights[c] != 0.0).collect(),
            weights,
            stretch: (rate as usize + 5) / 10,
            filled: 0,
            sums: vec![0.0; channels],
            recent: Vec::with_capacity(SHORT_TERM),
            stretches: 0,
            blocks: Vec::new(),
            short_terms: Vec::new(),
        }
    }

    /// Adds interleaved samples (the meter's channel count per frame).
    pub fn push(&mut self, interleaved: &[f32]) {
        let channels = self.states.len();
        let mut rest = interleaved;
        while !rest.is_empty() {
            let take = (self.stretch - self.filled).min(rest.len() / channels);
            let (now, later) = rest.split_at(take * channels);
            self.filter(now);
            self.filled += take;
            rest = later;
            if self.filled == self.stretch {
                self.end_stretch();
            }
            if take == 0 {
                break; // a partial frame: ignored, as `ebur128` refuses it
            }
        }
        // Without flush-to-zero, a filter decaying in silence would reach subnormal numbers.
        self.states.iter_mut().flatten().filter(|v| v.abs() < f64::MIN_POSITIVE).for_each(|v| *v = 0.0);
    }

    /// Filters whole frames into the current stretch's energies, two channels at a time so that
    /// their recursions run side by side, the newest state term subtracted last (the critical
    /// path is then one multiply and one subtraction per sample).
    fn filter(&mut self, interleaved: &[f32]) {
        for i in (0..self.used.len()).step_by(2) {
            match self.used.get(i + 1) {
                Some(&b) => self.filter_channels([self.used[i], b], interleaved),
                None => self.filter_channels([self.used[i]], interleaved),
            }
        }
    }

    fn filter_channels<const N: usize>(&mut self, channels: [usize; N], interleaved: &[f32]) {
        let ([b0, b1, b2, b3, b4], [_, a1, a2, a3, a4]) = (self.b, self.a);
        let mut states = channels.map(|c| self.states[c]);
        let mut energies = channels.map(|c| self.sums[c]);
        for frame in interleaved.chunks_exact(self.states.len()) {
            for ((&c, state), energy) in channels.iter().zip(&mut states).zip(&mut energies) {
                let [s1, s2, s3, s4] = *state;
                let s0 = (frame[c] as f64 - a4 * s4 - a3 * s3 - a2 * s2) - a1 * s1;
                let y = b0 * s0 + b1 * s1 + b2 * s2 + b3 * s3 + b4 * s4;
                *state = [s0, s1, s2, s3];
                *energy += y * y;
            }
        }
        for ((&c, state), energy) in channels.iter().zip(states).zip(energies) {
            self.states[c] = state;
            self.sums[c] = energy;
        }
    }

    /// Closes a 100-ms stretch: a gating block ends with every stretch from the fourth on, a
    /// short-term block with the thirtieth and every tenth after it.
    fn end_stretch(&mut self) {
        let energy = self.sums.iter().zip(&self.weights).map(|(s, w)| s * w).sum::<f64>();
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.filled = 0;
        if self.recent.len() == SHORT_TERM {
            self.recent.remove(0);
        }
        self.recent.push(energy);
        self.stretches += 1;
        let mean_of_last =
            |n: usize| self.recent[self.recent.len() - n..].iter().sum::<f64>() / (n * self.stretch) as f64;
        let gate = absolute_gate();
        if self.stretches >= MOMENTARY {
            let block = mean_of_last(MOMENTARY);
            if block.is_nan() || block >= gate {
                self.blocks.push(block); // NaN too, as `ebur128` keeps it (the reading is then NaN)
            }
        }
        if self.stretches >= SHORT_TERM && (self.stretches - SHORT_TERM).is_multiple_of(SHORT_TERM_EVERY) {
            let block = mean_of_last(SHORT_TERM);
            if block.is_nan() || block >= gate {
                self.short_terms.push(block);
            }
        }
    }

    /// Integrated loudness (LUFS): the gating blocks' mean above the relative gate (10 LU below
    /// the mean of those above the absolute gate); −∞ when no block passes the absolute gate.
    pub fn integrated_lufs(&self) -> f64 {
        if self.blocks.is_empty() {
            return f64::NEG_INFINITY;
        }
        let threshold = self.blocks.iter().sum::<f64>() / self.blocks.len() as f64 * 0.1;
        if threshold.is_nan() {
            return f64::NAN;
        }
        let (count, sum) =
            self.blocks.iter().filter(|&&e| e >= threshold).fold((0usize, 0.0), |(n, s), &e| (n + 1, s + e));
        if count == 0 { f64::NEG_INFINITY } else { loudness(sum / count as f64) }
    }

    /// Loudness range (EBU Tech 3342, LU): the spread between the 10th and 95th percentiles of
    /// the short-term blocks within 20 LU of their mean; 0 without any.
    pub fn range_lu(&self) -> f64 {
        let mut sorted = self.short_terms.clone();
        if sorted.is_empty() {
            return 0.0;
        }
        if sorted.iter().any(|e| e.is_nan()) {
            return f64::NAN;
        }
        sorted.sort_unstable_by(f64::total_cmp);
        let threshold = sorted.iter().sum::<f64>() / sorted.len() as f64 * 0.01;
        let gated = &sorted[sorted.iter().take_while(|&&e| e < threshold).count()..];
        let Some(last) = gated.len().checked_sub(1) else { return 0.0 };
        let at = |p: f64| gated[(last as f64 * p + 0.5) as usize];
        loudness(at(0.95)) - loudness(at(0.1))
    }
}

/// `ebur128`'s K-weighting at `rate` Hz: its high-shelf pre-filter and RLB high-pass, multiplied
/// into one 4th-order filter (numerator, denominator).
#[allow(non_snake_case)]
fn k_weighting(rate: f64) -> ([f64; 5], [f64; 5]) {
    let (f0, G, Q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let K = f64::tan(std::f64::consts::PI * f0 / rate);
    let Vh = f64::powf(10.0, G / 20.0);
    let Vb = f64::powf(Vh, 0.4996667741545416);
    let a0 = 1.0 + K / Q + K * K;
    let pb = [(Vh + Vb * K / Q + K * K) / a0, 2.0 * (K * K - Vh) / a0, (Vh - Vb * K / Q + K * K) / a0];
    let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];
    let (f0, Q) = (38.13547087602444, 0.5003270373238773);
    let K = f64::tan(std::f64::consts::PI * f0 / rate);
    let rb = [1.0, -2.0, 1.0];
    let ra = [1.0, 2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K), (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K)];
    let multiply = |p: [f64; 3], r: [f64; 3]| {
        [
            p[0] * r[0],
            p[0] * r[1] + p[1] * r[0],
            p[0] * r[2] + p[1] * r[1] + p[2] * r[0],
            p[1] * r[2] + p[2] * r[1],
            p[2] * r[2],
        ]
    };
    (multiply(pb, rb), multiply(pa, ra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::test_signal::music_like;
    use ebur128::{EbuR128, Mode};

    /// `ebur128`'s integrated loudness and loudness range of `interleaved`, fed in `chunk`-frame pieces.
    fn reference(rate: u32, channels: usize, interleaved: &[f32], chunk: usize) -> (f64, f64) {
        let mut meter = EbuR128::new(channels as u32, rate, Mode::I | Mode::LRA).unwrap();
        for piece in interleaved.chunks(chunk * channels) {
            meter.add_frames_f32(piece).unwrap();
        }
        (meter.loudness_global().unwrap(), meter.loudness_range().unwrap())
    }

    fn measured(rate: u32, channels: usize, interleaved: &[f32], chunk: usize) -> (f64, f64) {
        let mut meter = R128Meter::new(rate, channels);
        for piece in interleaved.chunks(chunk * channels) {
            meter.push(piece);
        }
        (meter.integrated_lufs(), meter.range_lu())
    }

    /// The music-like signal in sections 4 s long at levels 30 dB apart, so that both gates
    /// drop blocks and the loudness range is wide.
    fn sections(rate: u32, channels: usize, seconds: f32) -> Vec<f32> {
        let levels = [1.0, 0.03, 0.3, 0.001, 0.6, 0.1];
        let section = (4.0 * rate as f32) as usize * channels;
        let mut audio = music_like(rate, channels, seconds);
        for (i, chunk) in audio.chunks_mut(section).enumerate() {
            chunk.iter_mut().for_each(|v| *v *= levels[i % levels.len()]);
        }
        audio
    }

    fn assert_close(measured: (f64, f64), reference: (f64, f64), what: &str) {
        let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-9;
        assert!(
            close(measured.0, reference.0) && close(measured.1, reference.1),
            "{what}: {measured:?} against ebur128's {reference:?}"
        );
    }

    #[test]
    fn loudness_and_range_equal_ebur128s_at_any_rate_channel_count_and_chunking() {
        for (rate, channels) in [(44_100, 2), (48_000, 1), (22_050, 6), (11_025, 4), (8_000, 5), (96_000, 2)] {
            let audio = sections(rate, channels, 25.0);
            for chunk in [1152, 37, 4096] {
                assert_close(
                    measured(rate, channels, &audio, chunk),
                    reference(rate, channels, &audio, chunk),
                    &format!("{rate} Hz, {channels} ch, chunks of {chunk}"),
                );
            }
        }
    }

    #[test]
    fn short_and_silent_tracks_read_as_ebur128_does() {
        let rate = 44_100;
        for seconds in [0.3, 0.45, 2.9, 3.05, 4.2] {
            let audio = music_like(rate, 2, seconds);
            assert_close(measured(rate, 2, &audio, 1024), reference(rate, 2, &audio, 1024), &format!("{seconds} s"));
        }
        let silence = vec![0.0f32; 2 * 5 * rate as usize];
        let (lufs, range) = measured(rate, 2, &silence, 1152);
        assert_eq!((lufs, range), (f64::NEG_INFINITY, 0.0));
        assert_eq!((lufs, range), reference(rate, 2, &silence, 1152));
    }

    #[test]
    fn a_nan_sample_makes_both_readings_nan_as_in_ebur128() {
        let rate = 44_100;
        let mut audio = music_like(rate, 2, 5.0);
        audio[2 * rate as usize] = f32::NAN;
        let (lufs, range) = measured(rate, 2, &audio, 1152);
        let (reference_lufs, reference_range) = reference(rate, 2, &audio, 1152);
        assert!(lufs.is_nan() && range.is_nan(), "{lufs} LUFS, {range} LU");
        assert!(reference_lufs.is_nan() && reference_range.is_nan());
    }
}
