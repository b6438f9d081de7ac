//! Audio input: decoding any supported file to mono samples and resampling them.

pub mod decode;
pub mod error;
pub mod read_all;
pub mod resample;
pub mod sniff;
pub mod wav_header;

pub use decode::{AudioStream, Chunk};
pub use error::AudioError;
pub use read_all::read_all;
pub use resample::StreamResampler;
