//! Audio input: decoding any supported file to mono samples and resampling them.

pub mod decode;
pub mod error;
pub mod resample;
pub mod sniff;

pub use decode::AudioStream;
pub use error::AudioError;
pub use resample::StreamResampler;
