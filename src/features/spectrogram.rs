//! Log-mel spectrogram of one segment, identical to librosa's
//! `power_to_db(melspectrogram(y))`, written straight into a model's input buffer.

use super::mel::{MelFilterbank, power_to_db};
use super::params::FeatureParams;
use super::stft::PowerStft;

/// Computes log-mel spectrograms for one set of feature parameters; build once, reuse for
/// every segment (no allocation per segment or per frame).
pub struct MelSpectrogram {
    params: FeatureParams,
    stft: PowerStft,
    filterbank: MelFilterbank,
    spectrum: Vec<f32>,
}

impl MelSpectrogram {
    /// Plans the FFT and builds the filterbank. `params` must have passed `validate()`.
    pub fn new(params: &FeatureParams) -> Self {
        let stft = PowerStft::new(params.n_fft, params.hop_length, params.power);
        let filterbank = MelFilterbank::new(params.sample_rate, params.n_fft, params.n_mels, params.fmin, params.fmax);
        Self { spectrum: vec![0.0; stft.bins()], stft, filterbank, params: params.clone() }
    }

    /// The parameters this spectrogram was built for.
    pub fn params(&self) -> &FeatureParams {
        &self.params
    }

    /// Number of values one segment produces (`n_mels × frames`).
    pub fn output_len(&self) -> usize {
        self.params.n_mels * self.params.frames()
    }

    /// Writes the mel power spectrogram (row-major `[n_mels][frames]`) of `segment`, which
    /// holds `params.segment_samples()` samples (or fewer: the rest counts as silence).
    pub fn power_into(&mut self, segment: &[f32], out: &mut [f32]) {
        let frames = self.params.frames();
        debug_assert_eq!(out.len(), self.output_len());
        for t in 0..frames {
            self.stft.frame_spectrum(segment, t, &mut self.spectrum);
            self.filterbank.apply(&self.spectrum, &mut out[t..], frames);
        }
    }

    /// Writes the log-mel spectrogram in dB (`power_to_db` with the sidecar's reference and `top_db`).
    pub fn db_into(&mut self, segment: &[f32], out: &mut [f32]) {
        self.power_into(segment, out);
        power_to_db(out, self.params.db_ref, self.params.top_db);
    }

    /// The filterbank in use (for tests and drawing).
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }
}
