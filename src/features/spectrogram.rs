//! Log-mel spectrogram of one segment, identical to librosa's
//! `power_to_db(melspectrogram(y))` (or musicnn's `log10(1 + 10000·mel)`), written straight into a
//! model's input buffer in the model's layout.

use super::mel::{MelFilterbank, log10_compress, power_to_db};
use super::params::{FeatureParams, InputLayout, MelScale};
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

    /// Writes the mel power spectrogram of `segment` in the sidecar's layout (`[n_mels][frames]`
    /// or `[frames][n_mels]`); `segment` holds `params.segment_samples()` samples (or fewer: the
    /// rest counts as silence).
    pub fn power_into(&mut self, segment: &[f32], out: &mut [f32]) {
        let (frames, n_mels) = (self.params.frames(), self.params.n_mels);
        debug_assert_eq!(out.len(), self.output_len());
        for t in 0..frames {
            self.stft.frame_spectrum(segment, t, &mut self.spectrum);
            match self.params.layout {
                InputLayout::MelsByFrames => self.filterbank.apply(&self.spectrum, &mut out[t..], frames),
                InputLayout::FramesByMels => self.filterbank.apply(&self.spectrum, &mut out[t * n_mels..], 1),
            }
        }
    }

    /// Writes the model input: the mel spectrogram compressed as the sidecar's `scale` says (dB by
    /// `power_to_db` with its reference and `top_db`, or musicnn's log10 compression).
    pub fn model_input_into(&mut self, segment: &[f32], out: &mut [f32]) {
        self.power_into(segment, out);
        match self.params.scale {
            MelScale::Decibels => power_to_db(out, self.params.db_ref, self.params.top_db),
            MelScale::Log10Compressed => log10_compress(out),
        }
    }

    /// The filterbank in use (for tests and drawing).
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }
}
