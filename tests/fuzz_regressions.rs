//! Inputs cargo fuzz found crashing (fuzz/), kept as regression tests: each now gives a typed error.

mod common;

use common::fixture;
use musicat::{AudioError, AudioStream, ModelBundle, ModelError};

/// The fuzz input format of `fuzz/fuzz_targets/decode.rs`: an extension byte, then the file.
#[test]
fn a_float_wav_with_absurd_sample_values_is_refused() {
    let data = std::fs::read(fixture("fuzz-regressions/decode-huge-float-samples")).unwrap();
    let mut stream = AudioStream::open_bytes(data[1..].to_vec(), Some("wav")).unwrap();
    let err = loop {
        match stream.next_chunk() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("decoded without complaint"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, AudioError::NonFiniteSamples { .. }), "{err:?}");
}

/// Loads a model-bundle fuzz input (`fuzz/fuzz_targets/model_bundle.rs`: sidecar length in 2 bytes,
/// sidecar, ONNX) and returns the error it must give.
fn bundle_error(name: &str) -> ModelError {
    let data = std::fs::read(fixture(&format!("fuzz-regressions/{name}"))).unwrap();
    let len = u16::from_le_bytes([data[0], data[1]]) as usize;
    let (json, onnx) = data[2..].split_at(len.min(data.len() - 2));
    ModelBundle::from_bytes("fuzz", onnx, &String::from_utf8_lossy(json)).err().expect("refused")
}

#[test]
fn an_onnx_output_that_nothing_produces_is_refused_without_a_panic() {
    let err = bundle_error("model-output-produced-by-nothing");
    assert!(matches!(err, ModelError::Onnx { .. }), "{err:?}");
    assert!(err.to_string().contains("produced by nothing"), "{err}");
}

#[test]
fn a_conv_whose_pads_do_not_fit_its_window_is_refused_without_a_panic() {
    let err = bundle_error("model-conv-pads-too-short");
    assert!(matches!(err, ModelError::Onnx { .. }), "{err:?}");
    assert!(err.to_string().contains("`pads` has"), "{err}");
}
