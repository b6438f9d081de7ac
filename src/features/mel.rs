//! Slaney-style mel filterbank (`librosa.filters.mel` with `htk=False, norm='slaney'`) and
//! the decibel conversion of `librosa.power_to_db`.

use super::params::DbReference;

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel on the Slaney scale (linear below 1 kHz, logarithmic above).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ { MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step() } else { hz / F_SP }
}

/// Mel to Hz on the Slaney scale.
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL { MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp() } else { F_SP * mel }
}

/// One triangular band: its first FFT bin and its non-zero weights.
struct Band {
    start: usize,
    weights: Vec<f32>,
}

/// A sparse mel filterbank: each band stores only its non-zero weights.
pub struct MelFilterbank {
    bands: Vec<Band>,
    bins: usize,
}

impl MelFilterbank {
    /// Builds the filterbank exactly as `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)`.
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize, fmin: f32, fmax: f32) -> Self {
        let bins = n_fft / 2 + 1;
        let sr = sample_rate as f64;
        let fft_freqs: Vec<f64> = (0..bins).map(|k| k as f64 * sr / n_fft as f64).collect();
        let (lo, hi) = (hz_to_mel(fmin as f64), hz_to_mel(fmax as f64));
        let mel_f: Vec<f64> =
            (0..n_mels + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64)).collect();
        let bands = (0..n_mels)
            .map(|m| {
                let (left, centre, right) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
                let enorm = 2.0 / (right - left);
                let dense: Vec<f32> = fft_freqs
                    .iter()
                    .map(|&f| {
                        let lower = (f - left) / (centre - left);
                        let upper = (right - f) / (right - centre);
                        (lower.min(upper).max(0.0) * enorm) as f32
                    })
                    .collect();
                let start = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = dense.iter().rposition(|&w| w > 0.0).map_or(start, |e| e + 1);
                Band { start, weights: dense[start..end].to_vec() }
            })
            .collect();
        Self { bands, bins }
    }

    /// Number of mel bands.
    pub fn bands(&self) -> usize {
        self.bands.len()
    }

    /// Number of FFT bins the filterbank expects.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Dense weight of band `m` at FFT bin `k` (for tests and plots).
    pub fn weight(&self, m: usize, k: usize) -> f32 {
        let band = &self.bands[m];
        k.checked_sub(band.start).and_then(|i| band.weights.get(i)).copied().unwrap_or(0.0)
    }

    /// Applies the filterbank to one spectrum frame, writing band `m` to `out[m * stride]`.
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32], stride: usize) {
        for (m, band) in self.bands.iter().enumerate() {
            let bins = &spectrum[band.start..band.start + band.weights.len()];
            out[m * stride] = bins.iter().zip(&band.weights).map(|(s, w)| s * w).sum();
        }
    }
}

/// Smallest power kept before the logarithm (librosa's `amin`).
pub const AMIN: f32 = 1e-10;

/// In-place `librosa.power_to_db(values, ref=…, amin=1e-10, top_db=…)` over one spectrogram.
pub fn power_to_db(values: &mut [f32], reference: DbReference, top_db: Option<f32>) {
    let ref_value = match reference {
        DbReference::Max => values.iter().copied().fold(0.0f32, f32::max),
        DbReference::One => 1.0,
    };
    let offset = 10.0 * ref_value.max(AMIN).log10();
    let mut max_db = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        *v = 10.0 * v.max(AMIN).log10() - offset;
        max_db = max_db.max(*v);
    }
    if let Some(top) = top_db {
        let floor = max_db - top;
        values.iter_mut().for_each(|v| *v = v.max(floor));
    }
}

/// musicnn's compression factor: `log10(1 + LOG10_COMPRESSION · power)`.
pub const LOG10_COMPRESSION: f32 = 10_000.0;

/// In-place `log10(1 + 10000 · power)` (musicnn's input scaling).
pub fn log10_compress(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = (LOG10_COMPRESSION * *v).ln_1p() * std::f32::consts::LOG10_E);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_round_trips() {
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
    }

    #[test]
    fn power_to_db_with_max_reference_puts_the_peak_at_zero_and_clips() {
        let mut v = vec![1.0, 0.1, 1e-12, 4.0];
        power_to_db(&mut v, DbReference::Max, Some(80.0));
        assert!((v[3]).abs() < 1e-6);
        assert!((v[0] + 6.0206).abs() < 1e-3);
        assert!((v[2] + 80.0).abs() < 1e-4, "clipped at top_db: {}", v[2]);
    }
}
