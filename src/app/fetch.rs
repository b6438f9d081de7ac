//! Fetches of the app's own files (the model index, bundles and backbones), from its origin.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::db::js_error;

async fn fetch(url: &str) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| js_error(url, e))?;
    let response: Response = response.dyn_into().map_err(|e| js_error(url, e))?;
    if response.ok() { Ok(response) } else { Err(format!("{url}: HTTP {}", response.status())) }
}

/// The text of `url`.
pub async fn text(url: &str) -> Result<String, String> {
    let response = fetch(url).await?;
    let text = response.text().map_err(|e| js_error(url, e))?;
    JsFuture::from(text).await.map_err(|e| js_error(url, e))?.as_string().ok_or_else(|| format!("{url}: not text"))
}

/// The bytes of `url`.
pub async fn bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = fetch(url).await?;
    let buffer = response.array_buffer().map_err(|e| js_error(url, e))?;
    Ok(Uint8Array::new(&JsFuture::from(buffer).await.map_err(|e| js_error(url, e))?).to_vec())
}
