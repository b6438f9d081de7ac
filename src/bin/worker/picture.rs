//! Which model inputs the spectrogram picture is drawn from, and how: the from-scratch models'
//! `[n_mels][frames]` decibels as they are; when only heads on a backbone run, the backbone's
//! `[frames][n_mels]` log-compressed values, turned around and brought back to decibels.

use musicat::features::mel::LOG10_COMPRESSION;
use musicat::features::{FeatureParams, InputLayout, MelScale};

/// Smallest power converted to decibels (librosa's `amin`): silence is -100 dB.
const AMIN: f32 = 1e-10;

/// The decibels of the mel power behind a log-compressed value `log10(1 + 10000 · power)`.
fn decompressed_db(value: f32) -> f32 {
    let power = (value * std::f32::consts::LN_10).exp_m1() / LOG10_COMPRESSION;
    10.0 * power.max(AMIN).log10()
}

/// The feature parameters of the model inputs to draw, and a buffer to bring them to dB.
pub struct PictureSource {
    params: FeatureParams,
    buffer: Vec<f32>,
}

impl PictureSource {
    /// Draws from the first decibel, mels-by-frames feature set among `params`, else from the first one.
    pub fn choose<'a>(params: impl IntoIterator<Item = &'a FeatureParams>) -> Option<Self> {
        let all: Vec<&FeatureParams> = params.into_iter().collect();
        let plain = all.iter().find(|p| p.scale == MelScale::Decibels && p.layout == InputLayout::MelsByFrames);
        let chosen = plain.or(all.first())?;
        Some(Self { params: (*chosen).clone(), buffer: Vec::new() })
    }

    /// A segment's model input `values` (made with `params`) as row-major `[n_mels][frames]`
    /// decibels, or `None` when the picture is not drawn from these parameters or the values do not fit.
    pub fn decibels<'v>(&'v mut self, params: &FeatureParams, values: &'v [f32]) -> Option<&'v [f32]> {
        let (n_mels, frames) = (params.n_mels, params.frames());
        if *params != self.params || values.len() < n_mels * frames {
            return None;
        }
        let values = &values[..n_mels * frames];
        if params.scale == MelScale::Decibels && params.layout == InputLayout::MelsByFrames {
            return Some(values);
        }
        let db = match params.scale {
            MelScale::Decibels => |v: f32| v,
            MelScale::Log10Compressed => decompressed_db,
        };
        self.buffer.clear();
        self.buffer.resize(n_mels * frames, 0.0);
        for (i, &v) in values.iter().enumerate() {
            let (mel, frame) = match params.layout {
                InputLayout::MelsByFrames => (i / frames, i % frames),
                InputLayout::FramesByMels => (i % n_mels, i / n_mels),
            };
            self.buffer[mel * frames + frame] = db(v);
        }
        Some(&self.buffer)
    }

    /// The part of the track a segment stands for in the picture: its audio, stretched over the
    /// gap to the next segment when segments start further apart than they last (musicnn's 2.976 s
    /// every 2.992 s), so the picture has no dark seams.
    pub fn span(&self, start_s: f64, end_s: f64) -> (f64, f64) {
        let length = self.params.segment_seconds as f64;
        let hop = self.params.segment_hop_seconds as f64;
        let whole = end_s - start_s >= length - 1e-6;
        (start_s, if whole && hop > length { start_s + hop } else { end_s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decibel_inputs_are_preferred_and_drawn_as_they_are() {
        let (plain, backbone) = (FeatureParams::default(), FeatureParams::musicnn());
        let mut source = PictureSource::choose([&backbone, &plain]).unwrap();
        let values = vec![-3.0; plain.n_mels * plain.frames()];
        assert_eq!(source.decibels(&plain, &values), Some(values.as_slice()));
        assert_eq!(source.decibels(&backbone, &vec![0.0; 96 * 187]), None);
        assert_eq!(source.decibels(&plain, &values[1..]), None);
        assert!(PictureSource::choose([]).is_none());
    }

    #[test]
    fn backbone_inputs_are_turned_mels_by_frames_and_brought_back_to_decibels() {
        let p = FeatureParams::musicnn();
        let (n_mels, frames) = (p.n_mels, p.frames());
        let mut source = PictureSource::choose([&p]).unwrap();
        // Frame-major input of the power 10^(-(frame % 9) - mel / 100), log-compressed.
        let power = |mel: usize, frame: usize| 10f32.powf(-((frame % 9) as f32) - mel as f32 / 100.0);
        let values: Vec<f32> =
            (0..frames * n_mels).map(|i| (1.0 + LOG10_COMPRESSION * power(i % n_mels, i / n_mels)).log10()).collect();
        let db = source.decibels(&p, &values).unwrap().to_vec();
        for (mel, frame) in [(0, 0), (5, 0), (0, 7), (95, 186), (42, 100)] {
            let expected = 10.0 * power(mel, frame).log10();
            assert!(
                (db[mel * frames + frame] - expected).abs() < 0.05,
                "mel {mel} frame {frame}: {}",
                db[mel * frames + frame]
            );
        }
        assert_eq!(decompressed_db(0.0), -100.0);
    }

    #[test]
    fn whole_segments_cover_the_gap_to_the_next_one_and_tails_their_audio() {
        let source = PictureSource::choose([&FeatureParams::musicnn()]).unwrap();
        let (start, end) = source.span(2.992, 2.992 + 2.976);
        assert!((start - 2.992).abs() < 1e-9 && (end - 5.984).abs() < 1e-6, "{end}");
        assert_eq!(source.span(5.984, 7.0), (5.984, 7.0));
        let plain = PictureSource::choose([&FeatureParams::default()]).unwrap();
        assert_eq!(plain.span(5.0, 10.0), (5.0, 10.0));
    }
}
