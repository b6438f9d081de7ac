//! Checks a WAV file's `fmt ` chunk from its first bytes, so forged channel counts and codecs are refused before the demuxer parses them.

use super::decode::MAX_CHANNELS;
use super::error::AudioError;

/// WAV format tags the decoder reads: PCM, IEEE float, A-law, µ-law, MS and IMA ADPCM, extensible.
const READABLE_TAGS: [u16; 7] = [0x0001, 0x0003, 0x0006, 0x0007, 0x0002, 0x0011, 0xFFFE];

/// An error for a RIFF/WAVE `head` whose `fmt ` chunk declares an impossible channel count or an
/// unreadable codec; `None` when it is fine, not a WAV file, or the chunk lies beyond `head`.
pub fn check_wav_head(head: &[u8]) -> Option<AudioError> {
    if head.get(..4)? != b"RIFF" || head.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12usize;
    while let Some(header) = head.get(at..at + 8) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if &header[..4] == b"fmt " {
            let body = head.get(at + 8..at + 24)?;
            let tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            if channels == 0 || channels > MAX_CHANNELS {
                return Some(AudioError::BadHeader(format!(
                    "it declares {channels} audio channels (1 to {MAX_CHANNELS} are readable)"
                )));
            }
            if !READABLE_TAGS.contains(&tag) {
                return Some(AudioError::UnsupportedCodec(format!("WAV format tag 0x{tag:04x}")));
            }
            return None;
        }
        at = at.checked_add(8)?.checked_add(size)?.checked_add(size % 2)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_head(tag: u16, channels: u16) -> Vec<u8> {
        let mut head = b"RIFF\x00\x00\x00\x00WAVEjunk\x02\x00\x00\x00\x00\x00fmt \x10\x00\x00\x00".to_vec();
        head.extend_from_slice(&tag.to_le_bytes());
        head.extend_from_slice(&channels.to_le_bytes());
        head.extend_from_slice(&[0; 12]);
        head
    }

    #[test]
    fn forged_channel_counts_and_unknown_codecs_are_named() {
        assert_eq!(check_wav_head(&wav_head(1, 2)), None);
        assert!(matches!(check_wav_head(&wav_head(1, 0)), Some(AudioError::BadHeader(m)) if m.contains("0 audio")));
        assert!(matches!(check_wav_head(&wav_head(1, 65535)), Some(AudioError::BadHeader(m)) if m.contains("65535")));
        assert_eq!(
            check_wav_head(&wav_head(0x1234, 1)),
            Some(AudioError::UnsupportedCodec("WAV format tag 0x1234".into()))
        );
        assert_eq!(check_wav_head(b"fLaC\x00\x00\x00\x22"), None);
    }
}
