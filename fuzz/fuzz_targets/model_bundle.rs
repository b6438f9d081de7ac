//! Fuzz target: a model bundle from arbitrary bytes: a sidecar JSON (its length in the first two
//! bytes) and ONNX bytes (the rest). Loading must fail cleanly or give a usable bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musicat::ModelBundle;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let json_len = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (json, onnx) = data[2..].split_at(json_len);
    let json = String::from_utf8_lossy(json);
    if let Ok(bundle) = ModelBundle::from_bytes("fuzz", onnx, &json) {
        let item: usize = bundle.sidecar.features.input_shape().iter().product();
        let inputs = vec![0.0f32; item];
        let mut out = Vec::new();
        let _ = bundle.runner().probabilities(&inputs, 1, bundle.sidecar.activation, &mut out);
    }
});
