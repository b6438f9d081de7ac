//! Musical descriptors computed beside the models in the same decoding pass: tempo and beats,
//! key and mode, EBU R128 loudness, energy and danceability.

pub mod beats;
pub mod chroma;
pub mod frames;
pub mod key;
pub mod loudness;
pub mod onset;
pub mod r128;
pub mod scores;
pub mod tempo;
pub mod tempogram;
#[cfg(test)]
mod test_signal;
pub mod true_peak;

use crate::audio::{AudioError, AudioStream, Chunk, StreamResampler};
use crate::report::Descriptors;

use chroma::ChromaAccumulator;
use frames::StreamingStft;
use loudness::LoudnessMeter;
use onset::OnsetDetector;
use tempogram::Tempogram;

/// Rate the rhythm and pitch analysis runs at: the shipped models' rate, so that the samples the
/// models' resampler makes serve both (librosa's 22050 Hz cost a second resampling of every
/// track, about a quarter of the descriptors' time in the browser); the bands above 8 kHz it
/// leaves out matter little to onsets and pitch classes.
pub const SAMPLE_RATE: u32 = 16_000;
/// STFT size of the rhythm and pitch analysis: a 96-ms window with 10.4-Hz bins, as librosa's
/// default 2048 samples at 22050 Hz (92.9 ms, 10.8 Hz).
pub const N_FFT: usize = 1536;
/// Hop between STFT frames: 23.25 ms, 43.0 frames per second, as librosa's 512 at 22050 Hz
/// (23.2 ms).
pub const HOP: usize = 372;

/// Computes a track's descriptors from its decoded packets; build once, reuse for every track.
pub struct DescriptorAnalyzer {
    resampler: Option<StreamResampler>,
    resampled: Vec<f32>,
    frames: StreamingStft,
    onsets: OnsetDetector,
    chroma: ChromaAccumulator,
    tempogram: Tempogram,
    loudness: LoudnessMeter,
}

impl Default for DescriptorAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl DescriptorAnalyzer {
    /// Plans the FFTs and builds the filterbanks.
    pub fn new() -> Self {
        Self {
            resampler: None,
            resampled: Vec::new(),
            frames: StreamingStft::new(N_FFT, HOP),
            onsets: OnsetDetector::new(SAMPLE_RATE, N_FFT),
            chroma: ChromaAccumulator::new(SAMPLE_RATE, N_FFT),
            tempogram: Tempogram::new(Self::frame_rate()),
            loudness: LoudnessMeter::default(),
        }
    }

    /// STFT frames per second.
    pub fn frame_rate() -> f64 {
        SAMPLE_RATE as f64 / HOP as f64
    }

    /// Starts a track decoded at `source_rate` Hz, fed packet by packet with
    /// [`DescriptorAnalyzer::push`] (which resamples them).
    pub fn reset(&mut self, source_rate: u32) -> Result<(), AudioError> {
        self.start(source_rate, Some(StreamResampler::new(source_rate, SAMPLE_RATE)?));
        Ok(())
    }

    /// Starts a track decoded at `source_rate` Hz whose samples at [`SAMPLE_RATE`] the caller
    /// makes itself (the models' resampler): fed with [`DescriptorAnalyzer::push_loudness`] and
    /// [`DescriptorAnalyzer::push_at_rate`], no resampler of its own.
    pub fn reset_resampled(&mut self, source_rate: u32) {
        self.start(source_rate, None);
    }

    fn start(&mut self, source_rate: u32, resampler: Option<StreamResampler>) {
        self.resampler = resampler;
        self.frames.reset();
        self.onsets.reset();
        self.chroma.reset();
        self.loudness.reset(source_rate);
    }

    /// Decodes a whole stream and returns its descriptors (no models involved).
    pub fn describe(&mut self, mut stream: AudioStream) -> Result<Descriptors, AudioError> {
        self.reset(stream.sample_rate())?;
        while let Some(chunk) = stream.next_packet()? {
            self.push(chunk);
        }
        Ok(self.finish())
    }

    /// Adds one decoded packet.
    pub fn push(&mut self, chunk: Chunk<'_>) {
        self.push_loudness(chunk);
        self.resample_and_analyse(Some(chunk.mono));
    }

    /// Adds one decoded packet's own channels to the loudness and peak meters only.
    pub fn push_loudness(&mut self, chunk: Chunk<'_>) {
        self.loudness.push(chunk.interleaved, chunk.channels);
    }

    /// Adds the track's next mono samples at [`SAMPLE_RATE`] to the rhythm and pitch analysis.
    pub fn push_at_rate(&mut self, samples: &[f32]) {
        self.frames.push(samples, &mut analyse_frame(&mut self.onsets, &mut self.chroma));
    }

    /// Resamples `mono` (`None`: the resampler's last samples) with the analyzer's own
    /// resampler, when it has one, and analyses the result.
    fn resample_and_analyse(&mut self, mono: Option<&[f32]>) {
        let Some(resampler) = self.resampler.as_mut() else { return };
        let mut resampled = std::mem::take(&mut self.resampled);
        resampled.clear();
        let mut keep = |block: &[f32]| resampled.extend_from_slice(block);
        match mono {
            Some(mono) => resampler.push(mono, &mut keep),
            None => resampler.finish(&mut keep),
        }
        self.push_at_rate(&resampled);
        self.resampled = resampled;
    }

    /// Ends the track and returns its descriptors.
    pub fn finish(&mut self) -> Descriptors {
        self.resample_and_analyse(None);
        self.frames.finish(&mut analyse_frame(&mut self.onsets, &mut self.chroma));
        let loudness = self.loudness.readings();
        let frame_rate = Self::frame_rate();
        let envelope = self.onsets.envelope();
        let mean_onset = envelope.iter().map(|&v| v as f64).sum::<f64>() / envelope.len().max(1) as f64;
        let peak = tempo::estimate(&self.tempogram.mean(envelope), envelope, frame_rate);
        let beat_frames = peak.map(|p| beats::track(envelope, p.lag.round() as usize)).unwrap_or_default();
        let bpm = peak.map(|p| refined_bpm(&beat_frames, p.bpm, frame_rate));
        let on_beats = beat_frames.iter().map(|&b| envelope[b] as f64).sum::<f64>() / beat_frames.len().max(1) as f64;
        let key = key::estimate(&self.chroma.profile());
        Descriptors {
            tempo_bpm: bpm.map(|b| b as f32),
            beats_s: beat_frames.iter().map(|&b| (b as f64 / frame_rate) as f32).collect(),
            key: key.map(|k| k.name()),
            key_strength: key.map(|k| k.correlation as f32),
            loudness_lufs: loudness.integrated_lufs.map(|v| v as f32),
            loudness_range_lu: loudness.range_lu.map(|v| v as f32),
            peak_dbfs: loudness.sample_peak_dbfs.map(|v| v as f32),
            true_peak_dbtp: loudness.true_peak_dbtp.map(|v| v as f32),
            energy: scores::energy(loudness.integrated_lufs, mean_onset) as f32,
            danceability: scores::danceability(
                peak.map_or(0.0, |p| p.strength as f64),
                if mean_onset > 0.0 { on_beats / mean_onset } else { 0.0 },
                bpm,
            ) as f32,
        }
    }
}

/// What becomes of each STFT frame's power spectrum.
fn analyse_frame<'a>(onsets: &'a mut OnsetDetector, chroma: &'a mut ChromaAccumulator) -> impl FnMut(&[f32]) + 'a {
    move |power| {
        onsets.push(power);
        chroma.push(power);
    }
}

/// `a.max(b)` for an `a` that is never NaN, as one comparison: in WebAssembly `f32::max` is a call
/// into libm (its NaN rule has no instruction there), made per sample by the meters. A NaN `b`
/// gives `a`, as `f32::max` does.
#[inline]
pub(crate) fn larger(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

/// The tempo the tracked beats keep on average (least-squares slope of beat time over beat
/// number, finer than the tempogram's whole-frame lags), or the tempogram's tempo when there are
/// too few beats or they keep another tempo (a tracker that locked onto another octave).
fn refined_bpm(beat_frames: &[usize], tempogram_bpm: f64, frame_rate: f64) -> f64 {
    const MIN_BEATS: usize = 8;
    if beat_frames.len() < MIN_BEATS {
        return tempogram_bpm;
    }
    let n = beat_frames.len() as f64;
    let mean_i = (n - 1.0) / 2.0;
    let mean_t = beat_frames.iter().sum::<usize>() as f64 / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (i, &t) in beat_frames.iter().enumerate() {
        covariance += (i as f64 - mean_i) * (t as f64 - mean_t);
        variance += (i as f64 - mean_i).powi(2);
    }
    let bpm = 60.0 * frame_rate / (covariance / variance);
    if (bpm / tempogram_bpm - 1.0).abs() < 0.06 { bpm } else { tempogram_bpm }
}

#[cfg(test)]
mod tests {
    use super::larger;

    #[test]
    fn larger_is_f32_max_for_numbers_and_keeps_the_first_against_a_nan() {
        for (a, b) in [(0.0, 1.0), (1.0, 0.0), (-3.0, -2.0), (2.5, 2.5), (f32::NEG_INFINITY, -1e30)] {
            assert_eq!(larger(a, b), a.max(b));
        }
        assert_eq!(larger(1.0, f32::NAN), 1.0f32.max(f32::NAN));
    }
}
