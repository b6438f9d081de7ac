//! Features: audio segments to librosa-compatible log-mel spectrograms.

pub mod mel;
pub mod params;
pub mod segment;
pub mod spectrogram;
pub mod stft;
pub mod thumbnail;

pub use params::{DbReference, FeatureParams, InputLayout, InvalidParams, MelScale};
pub use segment::{Segment, Segmenter};
pub use spectrogram::MelSpectrogram;
pub use thumbnail::MelThumbnail;
