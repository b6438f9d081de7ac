//! Broken and foreign files give typed errors with messages a user can act on, never panics.

mod common;

use common::decode_all;
use musicat::AudioError;

fn error_of(name: &str) -> AudioError {
    match decode_all(&format!("fixtures/bad/{name}")) {
        Ok((rate, samples)) => panic!("{name} decoded {} samples at {rate} Hz", samples.len()),
        Err(e) => e,
    }
}

#[test]
fn empty_and_tiny_files() {
    assert_eq!(error_of("empty.mp3"), AudioError::Empty);
    assert_eq!(error_of("one_byte.wav"), AudioError::TooSmall { bytes: 1 });
    let e = error_of("one_sample.wav");
    assert!(matches!(e, AudioError::TooShort { .. }), "{e:?}");
    assert!(e.to_string().contains("0.05 ms"), "{e}");
}

#[test]
fn files_that_are_not_audio_are_named() {
    assert_eq!(error_of("image.mp3"), AudioError::NotAudio("a PNG image"));
    assert_eq!(error_of("text.mp3"), AudioError::NotAudio("an HTML page"));
    assert_eq!(error_of("unknown.xyz"), AudioError::UnknownFormat);
    assert!(error_of("unknown.xyz").to_string().contains("MP3, WAV, FLAC"));
}

#[test]
fn truncated_files_say_how_much_is_there() {
    let e = error_of("truncated.mp3");
    let AudioError::Truncated { decoded_s, .. } = e else { panic!("{e:?}") };
    assert!((1.0..3.0).contains(&decoded_s), "{decoded_s}");
    let e = error_of("truncated_header.mp3");
    assert!(matches!(e, AudioError::Corrupt(_) | AudioError::Truncated { .. }), "{e:?}");
    assert!(e.to_string().contains("MP3"), "{e}");
}

#[test]
fn a_header_claiming_4_gb_is_reported_as_truncated() {
    let e = error_of("huge_header.wav");
    assert!(matches!(e, AudioError::Truncated { expected_s: Some(s), .. } if s > 3600.0), "{e:?}");
    assert!(e.to_string().contains("header announces"), "{e}");
}

#[test]
fn nonsense_headers_are_rejected() {
    for name in ["zero_channels.wav", "zero_rate.wav"] {
        let e = error_of(name);
        assert!(matches!(e, AudioError::BadHeader(_)), "{name}: {e:?}");
    }
    assert!(error_of("zero_rate.wav").to_string().contains("0 Hz"));
}

#[test]
fn nan_and_infinity_samples_are_reported() {
    let e = error_of("nan.wav");
    assert!(matches!(e, AudioError::NonFiniteSamples { .. }), "{e:?}");
    assert!(e.to_string().contains("NaN"));
}

#[test]
fn limits_on_length_and_size_are_explicit() {
    let mut stream =
        musicat::AudioStream::open_file(&common::fixture("fixtures/audio/music_12s_22050_mono.flac")).unwrap();
    stream.limit_seconds(2.0);
    let err = loop {
        match stream.next_chunk() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a 12 s file passed a 2 s limit"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, AudioError::TooLong { maximum_s: 2.0 });
    assert!(err.to_string().contains("longer than 2.0 s"), "{err}");
    let err = musicat::AudioStream::check_in_memory_size(3 << 30).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is 3072 MB; files read into memory (as the browser app does) may be at most 1024 MB"
    );
    assert!(musicat::AudioStream::check_in_memory_size(200 << 20).is_ok());
}
