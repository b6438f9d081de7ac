//! Recognises common non-audio files by their first bytes, so the error can say what they are.

/// Names the kind of a non-audio file from its first bytes, if it is a common one.
pub fn non_audio_kind(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\x7fELF", "a program (ELF executable)"),
        (b"MZ", "a Windows program"),
        (b"{\\rtf", "an RTF document"),
    ];
    if let Some((_, kind)) = SIGNATURES.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(kind);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]).trim_start().to_ascii_lowercase();
    if text.starts_with("<!doctype html") || text.starts_with("<html") {
        Some("an HTML page")
    } else if text.starts_with("<?xml") || text.starts_with("<svg") {
        Some("an XML document")
    } else if head.len() >= 16 && head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        Some("a text file")
    } else {
        None
    }
}

/// Names the audio container a file claims to be from its first bytes, if it is a known one.
pub fn audio_kind(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(usize, &[u8], &str)] = &[
        (0, b"ID3", "MP3"),
        (0, b"\xff\xfb", "MP3"),
        (0, b"\xff\xf3", "MP3"),
        (0, b"RIFF", "WAV"),
        (0, b"fLaC", "FLAC"),
        (0, b"OggS", "Ogg"),
        (4, b"ftyp", "M4A"),
    ];
    SIGNATURES
        .iter()
        .find(|(at, magic, _)| head.get(*at..).is_some_and(|h| h.starts_with(magic)))
        .map(|(_, _, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_images_documents_and_pages() {
        assert_eq!(non_audio_kind(b"\x89PNG\r\n\x1a\n...."), Some("a PNG image"));
        assert_eq!(non_audio_kind(b"%PDF-1.7"), Some("a PDF document"));
        assert_eq!(non_audio_kind(b"  <!DOCTYPE html><html>"), Some("an HTML page"));
        assert_eq!(non_audio_kind(b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb"), None);
        assert_eq!(non_audio_kind(b"RIFF\x24\x00\x00\x00WAVEfmt "), None);
    }
}
