//! Streaming decoder: any supported file to mono `f32` chunks at the file's own rate,
//! with bounded memory however long the file is.

use std::io::{Cursor, Read, Seek, SeekFrom};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::error::AudioError;
use super::sniff::{audio_kind, non_audio_kind};
use super::wav_header::check_wav_head;

/// Sample rates accepted from files, in Hz.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;
/// Channel counts accepted from files.
pub const MAX_CHANNELS: usize = 64;
/// Shortest file accepted, in seconds.
pub const MIN_SECONDS: f64 = 0.1;
/// Largest sample magnitude accepted (60 dB over full scale): float files may exceed ±1 a
/// little, but values beyond this are corrupt data and would overflow the spectrogram.
pub const MAX_SAMPLE: f32 = 1000.0;
/// Longest file accepted, in seconds (4 hours): past it, decoding stops with [`AudioError::TooLong`].
pub const MAX_SECONDS: f64 = 4.0 * 3600.0;
/// Largest file accepted in memory ([`AudioStream::open_bytes`], the browser app): 1 GiB.
pub const MAX_IN_MEMORY_BYTES: u64 = 1 << 30;
/// Smallest file that can hold an audio header.
const MIN_BYTES: usize = 12;
/// Packets in a row that may fail to decode before the file is declared damaged.
const MAX_BAD_PACKETS_IN_A_ROW: usize = 32;
/// Fraction of the announced length that must be present for a file not to count as truncated.
const COMPLETE_FRACTION: f64 = 0.98;

/// One decoded packet.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The channels averaged, one sample per frame.
    pub mono: &'a [f32],
    /// The file's own channels, interleaved.
    pub interleaved: &'a [f32],
    /// Channels in `interleaved`.
    pub channels: usize,
}

impl<'a> Chunk<'a> {
    /// A packet of one channel.
    pub fn mono(samples: &'a [f32]) -> Self {
        Self { mono: samples, interleaved: samples, channels: 1 }
    }
}

/// A decoded audio stream, read packet by packet.
pub struct AudioStream {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate: u32,
    expected_frames: Option<u64>,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    decoded_frames: u64,
    max_frames: u64,
    bad_packets_in_a_row: usize,
    finished: bool,
}

impl AudioStream {
    /// Opens a file on disk; `std::fs::File` streams, so memory stays bounded.
    pub fn open_file(path: &std::path::Path) -> Result<Self, AudioError> {
        let mut file = std::fs::File::open(path).map_err(|e| AudioError::Io(e.to_string()))?;
        let mut head = Vec::with_capacity(512);
        (&mut file).take(512).read_to_end(&mut head).map_err(|e| AudioError::Io(e.to_string()))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| AudioError::Io(e.to_string()))?;
        let extension = path.extension().and_then(|e| e.to_str());
        Self::open(Box::new(file), &head, extension)
    }

    /// Refuses a file of `bytes` that is too large to hold in memory (check before reading it).
    pub fn check_in_memory_size(bytes: u64) -> Result<(), AudioError> {
        if bytes > MAX_IN_MEMORY_BYTES {
            return Err(AudioError::TooLarge { bytes, maximum: MAX_IN_MEMORY_BYTES });
        }
        Ok(())
    }

    /// Opens a file held in memory (e.g. dropped on the page).
    pub fn open_bytes(bytes: Vec<u8>, extension: Option<&str>) -> Result<Self, AudioError> {
        Self::check_in_memory_size(bytes.len() as u64)?;
        let head = bytes[..bytes.len().min(512)].to_vec();
        Self::open(Box::new(Cursor::new(bytes)), &head, extension)
    }

    /// Probes the container and prepares the decoder; `head` is the file's first bytes.
    pub fn open(source: Box<dyn MediaSource>, head: &[u8], extension: Option<&str>) -> Result<Self, AudioError> {
        if head.is_empty() {
            return Err(AudioError::Empty);
        }
        if head.len() < MIN_BYTES {
            return Err(AudioError::TooSmall { bytes: head.len() });
        }
        if let Some(error) = check_wav_head(head) {
            return Err(error);
        }
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        let stream = MediaSourceStream::new(source, Default::default());
        let format = symphonia::default::get_probe()
            .probe(&hint, stream, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| probe_error(e, head))?;
        let track = format.default_track(TrackType::Audio).ok_or(AudioError::NoAudioTrack)?;
        let params = track.codec_params.as_ref().and_then(|p| p.audio()).ok_or(AudioError::NoAudioTrack)?;
        let sample_rate = params.sample_rate.ok_or_else(|| AudioError::BadHeader("it gives no sample rate".into()))?;
        if !SAMPLE_RATES.contains(&sample_rate) {
            return Err(AudioError::BadHeader(format!(
                "its sample rate is {sample_rate} Hz (Musicat reads {} Hz to {} Hz)",
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            )));
        }
        if let Some(channels) = &params.channels {
            let count = channels.count();
            if count == 0 || count > MAX_CHANNELS {
                return Err(AudioError::BadHeader(format!(
                    "it declares {count} audio channels (1 to {MAX_CHANNELS} are readable)"
                )));
            }
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymphoniaError::Unsupported(what) => AudioError::UnsupportedCodec(what.to_string()),
                other => AudioError::BadHeader(other.to_string()),
            })?;
        let track_id = track.id;
        let expected_frames = track.num_frames;
        Ok(Self {
            format,
            decoder,
            track_id,
            sample_rate,
            expected_frames,
            interleaved: Vec::new(),
            mono: Vec::new(),
            decoded_frames: 0,
            max_frames: (MAX_SECONDS * sample_rate as f64) as u64,
            bad_packets_in_a_row: 0,
            finished: false,
        })
    }

    /// Lowers the longest duration accepted (for tests and callers with tighter budgets).
    pub fn limit_seconds(&mut self, seconds: f64) {
        self.max_frames = self.max_frames.min((seconds * self.sample_rate as f64) as u64);
    }

    /// The file's sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The duration the header announces, if it does.
    pub fn announced_seconds(&self) -> Option<f64> {
        self.expected_frames.map(|f| f as f64 / self.sample_rate as f64)
    }

    /// Seconds decoded so far.
    pub fn decoded_seconds(&self) -> f64 {
        self.decoded_frames as f64 / self.sample_rate as f64
    }

    /// The next chunk of mono samples, `None` at the end of the stream. The slice is reused:
    /// copy what you keep before calling again.
    pub fn next_chunk(&mut self) -> Result<Option<&[f32]>, AudioError> {
        Ok(self.next_packet()?.map(|chunk| chunk.mono))
    }

    /// Like [`AudioStream::next_chunk`], with the packet's own channels beside the mono downmix.
    pub fn next_packet(&mut self) -> Result<Option<Chunk<'_>>, AudioError> {
        while !self.finished {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) | Err(SymphoniaError::ResetRequired) => {
                    self.finished = true;
                    break;
                }
                Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(self.truncated());
                }
                Err(e) => return Err(stream_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buffer = match self.decoder.decode(&packet) {
                Ok(buffer) => buffer,
                // A damaged packet (bad data, or a bit reader running off its end) is skipped.
                Err(SymphoniaError::DecodeError(msg)) => {
                    self.skip_bad_packet(msg.to_string())?;
                    continue;
                }
                Err(SymphoniaError::IoError(e)) => {
                    self.skip_bad_packet(e.to_string())?;
                    continue;
                }
                Err(e) => return Err(stream_error(e)),
            };
            self.bad_packets_in_a_row = 0;
            let channels = buffer.spec().channels().count();
            if channels == 0 || channels > MAX_CHANNELS {
                return Err(AudioError::BadHeader(format!("a packet has {channels} audio channels")));
            }
            if buffer.frames() == 0 {
                continue;
            }
            buffer.copy_to_vec_interleaved(&mut self.interleaved);
            downmix(&self.interleaved, channels, &mut self.mono);
            if let Some(bad) = self.mono.iter().position(|s| !s.is_finite() || s.abs() > MAX_SAMPLE) {
                let at_s = (self.decoded_frames + bad as u64) as f64 / self.sample_rate as f64;
                return Err(AudioError::NonFiniteSamples { at_s });
            }
            self.decoded_frames += self.mono.len() as u64;
            if self.decoded_frames > self.max_frames {
                let maximum_s = self.max_frames as f64 / self.sample_rate as f64;
                return Err(AudioError::TooLong { maximum_s });
            }
            return Ok(Some(Chunk { mono: &self.mono, interleaved: &self.interleaved, channels }));
        }
        self.check_complete()?;
        Ok(None)
    }

    /// Counts a packet that would not decode; too many in a row means the stream is damaged.
    fn skip_bad_packet(&mut self, why: String) -> Result<(), AudioError> {
        self.bad_packets_in_a_row += 1;
        if self.bad_packets_in_a_row > MAX_BAD_PACKETS_IN_A_ROW {
            return Err(AudioError::Corrupt(why));
        }
        Ok(())
    }

    fn check_complete(&self) -> Result<(), AudioError> {
        let seconds = self.decoded_seconds();
        if let Some(expected) = self.expected_frames
            && (self.decoded_frames as f64) < expected as f64 * COMPLETE_FRACTION
        {
            return Err(AudioError::Truncated { decoded_s: seconds, expected_s: self.announced_seconds() });
        }
        if seconds < MIN_SECONDS {
            return Err(AudioError::TooShort { seconds, minimum_s: MIN_SECONDS });
        }
        Ok(())
    }

    fn truncated(&self) -> AudioError {
        AudioError::Truncated { decoded_s: self.decoded_seconds(), expected_s: self.announced_seconds() }
    }
}

/// Averages interleaved channels into `mono` (reusing its allocation).
fn downmix(interleaved: &[f32], channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    if channels == 1 {
        mono.extend_from_slice(interleaved);
    } else {
        let scale = 1.0 / channels as f32;
        mono.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() * scale));
    }
}

fn probe_error(error: SymphoniaError, head: &[u8]) -> AudioError {
    if let Some(kind) = non_audio_kind(head) {
        return AudioError::NotAudio(kind);
    }
    if let Some(kind) = audio_kind(head)
        && matches!(error, SymphoniaError::Unsupported(_) | SymphoniaError::IoError(_))
    {
        return AudioError::Corrupt(format!("it starts like {kind} but no audio stream could be found in it"));
    }
    match error {
        SymphoniaError::Unsupported(_) => AudioError::UnknownFormat,
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Truncated { decoded_s: 0.0, expected_s: None }
        }
        SymphoniaError::IoError(e) => AudioError::Io(e.to_string()),
        SymphoniaError::DecodeError(msg) | SymphoniaError::LimitError(msg) => AudioError::BadHeader(msg.to_string()),
        other => AudioError::Corrupt(other.to_string()),
    }
}

fn stream_error(error: SymphoniaError) -> AudioError {
    match error {
        SymphoniaError::IoError(e) => AudioError::Io(e.to_string()),
        SymphoniaError::Unsupported(what) => AudioError::UnsupportedCodec(what.to_string()),
        other => AudioError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels() {
        let mut mono = Vec::new();
        downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut mono);
        assert_eq!(mono, vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn empty_and_foreign_bytes_are_named() {
        assert_eq!(AudioStream::open_bytes(Vec::new(), Some("mp3")).err(), Some(AudioError::Empty));
        let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec();
        assert_eq!(AudioStream::open_bytes(pdf, Some("mp3")).err(), Some(AudioError::NotAudio("a PDF document")));
    }
}
