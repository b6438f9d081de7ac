//! Why a file could not be read as audio, in words a user can act on.

/// A decoding failure. Every message says what is wrong with the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AudioError {
    /// Zero bytes.
    #[error("the file is empty (0 bytes)")]
    Empty,
    /// Too few bytes for any audio header.
    #[error("the file is only {bytes} bytes long, too small to hold audio")]
    TooSmall {
        /// Its size.
        bytes: usize,
    },
    /// Recognised as some other kind of file.
    #[error("this file is {0}, not audio")]
    NotAudio(&'static str),
    /// Not a container Musicat knows.
    #[error("the file is not in an audio format Musicat reads (MP3, WAV, FLAC, Ogg Vorbis, M4A/AAC)")]
    UnknownFormat,
    /// A known container with a codec Musicat cannot decode.
    #[error("the file's audio codec is not supported ({0}); convert it to MP3, FLAC, Ogg Vorbis, WAV or AAC")]
    UnsupportedCodec(String),
    /// The container holds no audio track.
    #[error("the file has no audio track")]
    NoAudioTrack,
    /// The header makes no sense.
    #[error("the file's header is invalid: {0}")]
    BadHeader(String),
    /// The data stops before the header said it would.
    #[error("the file is truncated (incomplete download or copy?): it ends after {decoded_s:.1} s of audio{}", expected_note(*.expected_s))]
    Truncated {
        /// Seconds that could be decoded.
        decoded_s: f64,
        /// Seconds the header announced, when it did.
        expected_s: Option<f64>,
    },
    /// Too little audio to analyse.
    #[error("the file holds only {} of audio; at least {minimum_s} s is needed", human_duration(*.seconds))]
    TooShort {
        /// Seconds of audio found.
        seconds: f64,
        /// The minimum accepted.
        minimum_s: f64,
    },
    /// Longer than Musicat classifies.
    #[error("the file is longer than {}, the longest Musicat classifies; split it first", human_duration(*.maximum_s))]
    TooLong {
        /// The limit, in seconds.
        maximum_s: f64,
    },
    /// Too large to hold in memory (the browser app reads a file whole).
    #[error("the file is {} MB; files read into memory (as the browser app does) may be at most {} MB", .bytes >> 20, .maximum >> 20)]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        maximum: u64,
    },
    /// NaN, infinite or absurdly large samples (only float WAV files can carry them).
    #[error("the file contains invalid samples (NaN, infinity or values far beyond full scale) at {at_s:.2} s")]
    NonFiniteSamples {
        /// Where the first one is.
        at_s: f64,
    },
    /// The audio data itself is damaged.
    #[error("the audio data is damaged and cannot be decoded ({0})")]
    Corrupt(String),
    /// The file could not be read at all.
    #[error("the file could not be read: {0}")]
    Io(String),
}

fn expected_note(expected_s: Option<f64>) -> String {
    expected_s.map(|s| format!(" but its header announces {}", human_duration(s))).unwrap_or_default()
}

/// `83.4` → `"1 min 23 s"`, `40000` → `"11 h 6 min"`.
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        _ if seconds < 1.0 => format!("{:.2} ms", seconds * 1000.0),
        0..=59 => format!("{seconds:.1} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_message_names_both_durations() {
        let e = AudioError::Truncated { decoded_s: 1.04, expected_s: Some(48_700.0) };
        assert_eq!(
            e.to_string(),
            "the file is truncated (incomplete download or copy?): it ends after 1.0 s of audio but its header announces 13 h 31 min"
        );
    }
}
