//! The dropped file the page sends (a `Blob`, not its bytes): its size is checked against the
//! in-memory limit (`AudioStream::check_in_memory_size`) before it is read, so a file too large
//! to hold is refused on its row without ever being loaded.

use js_sys::{ArrayBuffer, Uint8Array};
use musicat::AudioStream;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// The bytes of `item` (a `Blob`, or bytes already read), once its size is known to be within the limit.
pub async fn read(item: JsValue) -> Result<Vec<u8>, String> {
    let missing = || "the file's bytes did not arrive".to_string();
    if let Some(blob) = item.dyn_ref::<Blob>() {
        AudioStream::check_in_memory_size(blob.size() as u64).map_err(|e| e.to_string())?;
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|e| {
            let reason = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
            format!("the file cannot be read ({reason})")
        })?;
        return Ok(Uint8Array::new(&buffer).to_vec());
    }
    let bytes = if item.is_instance_of::<ArrayBuffer>() {
        Uint8Array::new(&item)
    } else {
        item.dyn_into::<Uint8Array>().map_err(|_| missing())?
    };
    AudioStream::check_in_memory_size(u64::from(bytes.length())).map_err(|e| e.to_string())?;
    Ok(bytes.to_vec())
}
