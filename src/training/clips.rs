//! Audio of a dataset loaded once into memory at the model's rate, and the model inputs made
//! from it: random crops with time/frequency masking for training, the exact inference
//! segments for validation.

use rand::Rng;
use rand::rngs::StdRng;

use crate::audio::{AudioStream, read_all};
use crate::features::{FeatureParams, MelSpectrogram, Segmenter};

use super::dataset::Example;

/// One decoded example.
pub struct Clip {
    /// Mono samples at the model's rate.
    pub samples: Vec<f32>,
    /// Label index.
    pub label: usize,
}

/// Decodes every example (skipping, with a warning, files that fail).
pub fn load(examples: &[&Example], params: &FeatureParams, warn: &mut dyn FnMut(String)) -> Vec<Clip> {
    examples
        .iter()
        .filter_map(|e| {
            let decoded = AudioStream::open_file(&e.path).and_then(|s| read_all(s, params.sample_rate));
            match decoded {
                Ok(samples) => Some(Clip { samples, label: e.label }),
                Err(err) => {
                    warn(format!("skipping {}: {err}", e.path.display()));
                    None
                }
            }
        })
        .collect()
}

/// Makes model inputs with the same spectrogram code the app and the CLI use.
pub struct InputMaker {
    spectrogram: MelSpectrogram,
    window: Vec<f32>,
}

impl InputMaker {
    /// An input maker for `params`.
    pub fn new(params: &FeatureParams) -> Self {
        Self { spectrogram: MelSpectrogram::new(params), window: vec![0.0; params.segment_samples()] }
    }

    /// Shape of one input, `[1, n_mels, frames]`.
    pub fn shape(&self) -> [usize; 3] {
        self.spectrogram.params().image_shape()
    }

    /// Values per input.
    pub fn item_len(&self) -> usize {
        self.spectrogram.output_len()
    }

    /// A random segment of `clip`, with SpecAugment-style masks, written into `out`.
    pub fn augmented(&mut self, clip: &[f32], rng: &mut StdRng, out: &mut [f32]) {
        let length = self.window.len();
        if clip.len() > length {
            let start = rng.random_range(0..=clip.len() - length);
            self.window.copy_from_slice(&clip[start..start + length]);
        } else {
            self.window[..clip.len()].copy_from_slice(clip);
            self.window[clip.len()..].fill(0.0);
        }
        self.spectrogram.model_input_into(&self.window, out);
        let params = self.spectrogram.params();
        let (mels, frames) = (params.n_mels, params.frames());
        let floor = out.iter().copied().fold(f32::INFINITY, f32::min);
        for _ in 0..2 {
            let width = rng.random_range(0..=frames / 10);
            let start = rng.random_range(0..=frames - width);
            for m in 0..mels {
                out[m * frames + start..m * frames + start + width].fill(floor);
            }
            let height = rng.random_range(0..=mels / 8);
            let low = rng.random_range(0..=mels - height);
            out[low * frames..(low + height) * frames].fill(floor);
        }
    }

    /// The last segment-length window of `clip`, when the inference segments leave its end out
    /// (e.g. a 4 s clip cut into 2.976 s segments 2.992 s apart), written into `out`.
    pub fn uncovered_tail(&mut self, clip: &[f32], out: &mut Vec<f32>) -> bool {
        let params = self.spectrogram.params();
        let (length, hop) = (params.segment_samples(), params.segment_hop_samples());
        if clip.len() <= length {
            return false;
        }
        // Mirrors `Segmenter::finish`: a tail of half a segment of new audio gets its own
        // (padded) segment; a shorter one is left out.
        let full = (clip.len() - length) / hop + 1;
        let covered = (full - 1) * hop + length;
        let fresh = clip.len().saturating_sub(full * hop).saturating_sub(length.saturating_sub(hop));
        if covered >= clip.len() || fresh * 2 >= length {
            return false;
        }
        let start = out.len();
        out.resize(start + self.item_len(), 0.0);
        self.spectrogram.model_input_into(&clip[clip.len() - length..], &mut out[start..]);
        true
    }

    /// The segments the inference path would cut from `clip` (digital silence left out),
    /// appended to `out`; returns how many.
    pub fn segments(&mut self, clip: &[f32], out: &mut Vec<f32>) -> usize {
        let params = self.spectrogram.params().clone();
        let item = self.item_len();
        let mut segmenter = Segmenter::new(params.segment_samples(), params.segment_hop_samples());
        let mut count = 0;
        let spectrogram = &mut self.spectrogram;
        let mut accept = |segment: crate::features::Segment<'_>| {
            if segment.silent {
                return;
            }
            let start = out.len();
            out.resize(start + item, 0.0);
            spectrogram.model_input_into(segment.samples, &mut out[start..]);
            count += 1;
        };
        segmenter.push(clip, &mut accept);
        segmenter.finish(&mut accept);
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_tail_the_segmenter_drops_is_added() {
        let mut maker = InputMaker::new(&FeatureParams::musicnn());
        let mut out = Vec::new();
        // 4 s at 16 kHz: one 2.976 s segment, the last second left out.
        assert!(maker.uncovered_tail(&vec![0.1; 64_000], &mut out));
        assert_eq!(out.len(), maker.item_len());
        // Shorter than a segment (padded), or a tail long enough for its own padded segment.
        assert!(!maker.uncovered_tail(&vec![0.1; 40_000], &mut out));
        assert!(!maker.uncovered_tail(&vec![0.1; 47_872 + 30_000], &mut out));
        assert_eq!(out.len(), maker.item_len());
    }
}
