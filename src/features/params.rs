//! Feature parameters of a model: how audio becomes the spectrogram the model was trained on.

use serde::{Deserialize, Serialize};

/// Reference level of the decibel conversion (`librosa.power_to_db(ref=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DbReference {
    /// `ref=np.max`: 0 dB is the loudest bin of each segment (gain invariant).
    #[default]
    Max,
    /// `ref=1.0`: absolute decibels.
    One,
}

/// How mel power becomes the model's input values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MelScale {
    /// `librosa.power_to_db` with `db_ref` and `top_db` (the from-scratch models).
    #[default]
    Decibels,
    /// `log10(1 + 10000 · power)`, musicnn's compression (`db_ref` and `top_db` unused).
    Log10Compressed,
}

/// Order of the values of one model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InputLayout {
    /// `[1, n_mels, frames]`: an image with one channel (the from-scratch CNNs).
    #[default]
    MelsByFrames,
    /// `[frames, n_mels]`: one row per STFT frame (musicnn).
    FramesByMels,
}

/// Everything needed to turn audio into a model input, read from a model's sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureParams {
    /// Sample rate the model expects, in Hz.
    pub sample_rate: u32,
    /// FFT window length in samples.
    pub n_fft: usize,
    /// Hop between STFT frames in samples.
    pub hop_length: usize,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest mel band edge in Hz.
    #[serde(default)]
    pub fmin: f32,
    /// Highest mel band edge in Hz (librosa's default is half the sample rate).
    pub fmax: f32,
    /// Exponent of the magnitude spectrum (2 = power).
    #[serde(default = "default_power")]
    pub power: f32,
    /// Decibel reference.
    #[serde(default)]
    pub db_ref: DbReference,
    /// Dynamic range kept below the maximum, in dB (`None`: no clipping).
    #[serde(default = "default_top_db")]
    pub top_db: Option<f32>,
    /// How mel power is compressed.
    #[serde(default)]
    pub scale: MelScale,
    /// Order of the input values.
    #[serde(default)]
    pub layout: InputLayout,
    /// Length of one analysed segment in seconds.
    #[serde(default = "default_segment_seconds")]
    pub segment_seconds: f32,
    /// Hop between segment starts in seconds (equal to the length: no overlap).
    #[serde(default = "default_segment_seconds")]
    pub segment_hop_seconds: f32,
}

fn default_power() -> f32 {
    2.0
}
fn default_top_db() -> Option<f32> {
    Some(80.0)
}
fn default_segment_seconds() -> f32 {
    5.0
}

impl Default for FeatureParams {
    /// librosa's `melspectrogram` defaults on 5-second segments.
    fn default() -> Self {
        Self {
            sample_rate: 22_050,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            fmin: 0.0,
            fmax: 11_025.0,
            power: default_power(),
            db_ref: DbReference::Max,
            top_db: default_top_db(),
            scale: MelScale::Decibels,
            layout: InputLayout::MelsByFrames,
            segment_seconds: default_segment_seconds(),
            segment_hop_seconds: default_segment_seconds(),
        }
    }
}

/// Why a set of feature parameters cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid feature parameter `{name}` = {value}: {reason}")]
pub struct InvalidParams {
    /// The parameter's name in the sidecar.
    pub name: &'static str,
    /// Its value, as written.
    pub value: String,
    /// What the allowed range is.
    pub reason: &'static str,
}

fn check(ok: bool, name: &'static str, value: impl ToString, reason: &'static str) -> Result<(), InvalidParams> {
    if ok { Ok(()) } else { Err(InvalidParams { name, value: value.to_string(), reason }) }
}

impl FeatureParams {
    /// musicnn's front end: 16 kHz, n_fft 512, hop 256, 96 Slaney mel bands up to 8 kHz,
    /// `log10(1 + 10000·power)`, 187-frame patches (47,616 samples) every 187 frames (47,872).
    pub fn musicnn() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 512,
            hop_length: 256,
            n_mels: 96,
            fmax: 8_000.0,
            scale: MelScale::Log10Compressed,
            layout: InputLayout::FramesByMels,
            segment_seconds: 2.976,
            segment_hop_seconds: 2.992,
            ..Self::default()
        }
    }

    /// Rejects parameters that are nonsensical or would allocate absurd amounts of memory.
    pub fn validate(&self) -> Result<(), InvalidParams> {
        check(
            (4_000..=192_000).contains(&self.sample_rate),
            "sample_rate",
            self.sample_rate,
            "must be 4000..=192000 Hz",
        )?;
        check((16..=16_384).contains(&self.n_fft), "n_fft", self.n_fft, "must be 16..=16384")?;
        check((1..=self.n_fft).contains(&self.hop_length), "hop_length", self.hop_length, "must be 1..=n_fft")?;
        check((1..=512).contains(&self.n_mels), "n_mels", self.n_mels, "must be 1..=512")?;
        check(self.n_mels <= self.n_fft / 2 + 1, "n_mels", self.n_mels, "must not exceed the number of FFT bins")?;
        let nyquist = self.sample_rate as f32 / 2.0;
        check(self.fmin.is_finite() && self.fmin >= 0.0, "fmin", self.fmin, "must be 0 or more")?;
        check(
            self.fmax.is_finite() && self.fmax > self.fmin && self.fmax <= nyquist,
            "fmax",
            self.fmax,
            "must be above fmin and at most half the sample rate",
        )?;
        check(self.power == 1.0 || self.power == 2.0, "power", self.power, "must be 1 or 2")?;
        if let Some(top) = self.top_db {
            check(top.is_finite() && top > 0.0, "top_db", top, "must be positive")?;
        }
        check(
            self.segment_seconds.is_finite() && (0.1..=60.0).contains(&self.segment_seconds),
            "segment_seconds",
            self.segment_seconds,
            "must be 0.1..=60 s",
        )?;
        check(
            self.segment_hop_seconds.is_finite()
                && self.segment_hop_seconds > 0.0
                && self.segment_hop_seconds <= 2.0 * self.segment_seconds,
            "segment_hop_seconds",
            self.segment_hop_seconds,
            "must be above 0 and at most twice segment_seconds",
        )?;
        check(
            self.segment_samples() >= self.n_fft / 2,
            "segment_seconds",
            self.segment_seconds,
            "a segment must hold at least half an FFT window",
        )?;
        Ok(())
    }

    /// Samples in one segment at the model's rate.
    pub fn segment_samples(&self) -> usize {
        (self.segment_seconds as f64 * self.sample_rate as f64).round() as usize
    }

    /// Samples between segment starts at the model's rate.
    pub fn segment_hop_samples(&self) -> usize {
        ((self.segment_hop_seconds as f64 * self.sample_rate as f64).round() as usize).max(1)
    }

    /// STFT frames in one segment (centered frames, as librosa computes them).
    pub fn frames(&self) -> usize {
        1 + self.segment_samples() / self.hop_length
    }

    /// Shape of one spectrogram as a one-channel image, `[1, n_mels, frames]` (the CNNs' input).
    pub fn image_shape(&self) -> [usize; 3] {
        [1, self.n_mels, self.frames()]
    }

    /// Shape of one model input: `[1, n_mels, frames]` or `[frames, n_mels]`, as `layout` says.
    pub fn input_shape(&self) -> Vec<usize> {
        match self.layout {
            InputLayout::MelsByFrames => self.image_shape().to_vec(),
            InputLayout::FramesByMels => vec![self.frames(), self.n_mels],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librosa_defaults_give_216_frames_of_128_bands() {
        let p = FeatureParams::default();
        p.validate().unwrap();
        assert_eq!(p.segment_samples(), 110_250);
        assert_eq!(p.input_shape(), [1, 128, 216]);
    }

    #[test]
    fn musicnn_front_end_gives_187_frames_of_96_bands_frame_major() {
        let p = FeatureParams::musicnn();
        p.validate().unwrap();
        assert_eq!((p.segment_samples(), p.segment_hop_samples()), (47_616, 47_872));
        assert_eq!(p.input_shape(), [187, 96]);
    }

    #[test]
    fn absurd_fft_size_is_rejected_before_allocating() {
        let p = FeatureParams { n_fft: 1 << 30, ..FeatureParams::default() };
        let err = p.validate().unwrap_err();
        assert_eq!(err.name, "n_fft");
        assert!(err.to_string().contains("1073741824"));
    }

    #[test]
    fn fmax_above_nyquist_is_rejected() {
        let p = FeatureParams { fmax: 20_000.0, ..FeatureParams::default() };
        assert_eq!(p.validate().unwrap_err().name, "fmax");
    }
}
