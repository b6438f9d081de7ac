//! Musicat: classifies music (genre, mood, style) and sounds from audio files, slice by slice,
//! with the same code in the browser (wasm32), the `classify` CLI and the trainer.

pub mod analyze;
pub mod audio;
pub mod descriptors;
pub mod evaluation;
pub mod features;
pub mod model;
pub mod report;
pub mod share;
#[cfg(feature = "train")]
pub mod training;
pub mod worker_api;

pub use analyze::{AnalyzeError, Analyzer, MelSegment, StageTimes};
pub use audio::{AudioError, AudioStream};
pub use features::FeatureParams;
pub use model::{ModelBundle, ModelError, Models};
pub use report::{Descriptors, SegmentPrediction, TaskVerdict, TrackReport};
