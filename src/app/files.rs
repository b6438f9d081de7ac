//! Files from the picker, a picked folder, or a drop (files and whole folders, read recursively).

use js_sys::{Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry};

/// Extensions taken from folders (a file picked or dropped by itself is always tried).
const AUDIO: [&str; 8] = ["mp3", "wav", "flac", "ogg", "oga", "m4a", "mp4", "aac"];

/// Whether a name inside a folder looks like audio.
pub fn is_audio_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, e)| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
}

/// The files of a list, named by their path inside a picked folder when there is one; files
/// of a folder that do not look like audio are skipped.
pub fn from_list(list: &FileList) -> Vec<(String, File)> {
    (0..list.length())
        .filter_map(|i| list.get(i))
        .filter_map(|f| {
            let path: String = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .unwrap_or_default();
            if path.is_empty() { Some((f.name(), f)) } else { is_audio_name(&path).then_some((path, f)) }
        })
        .collect()
}

/// Awaits a callback-style API (`call(success, failure)`).
async fn callback(
    call: impl FnOnce(&js_sys::Function, &js_sys::Function) -> Result<(), JsValue>,
) -> Result<JsValue, JsValue> {
    let mut call = Some(call);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take()
            && let Err(e) = call(&resolve, &reject)
        {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    JsFuture::from(promise).await
}

/// Reads a dropped entry: a file, or every audio file below a folder.
async fn walk(root: FileSystemEntry, out: &mut Vec<(String, File)>) {
    let mut stack = vec![(root, true)];
    while let Some((entry, top)) = stack.pop() {
        let path = entry.full_path().trim_start_matches('/').to_string();
        if entry.is_directory() {
            let reader = entry.unchecked_into::<FileSystemDirectoryEntry>().create_reader();
            // readEntries returns the entries in batches until an empty one.
            loop {
                let batch = callback(|ok, failed| reader.read_entries_with_callback_and_callback(ok, failed)).await;
                let Ok(batch) = batch else { break };
                let batch = Array::from(&batch);
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(|e| (e.unchecked_into::<FileSystemEntry>(), false)));
            }
        } else if top || is_audio_name(&path) {
            let file_entry = entry.unchecked_into::<FileSystemFileEntry>();
            if let Ok(file) = callback(|ok, failed| {
                file_entry.file_with_callback_and_callback(ok, failed);
                Ok(())
            })
            .await
            {
                out.push((path, file.unchecked_into()));
            }
        }
    }
}

/// Everything dropped: files by themselves and the audio files of dropped folders.
pub async fn from_drop(transfer: DataTransfer) -> Vec<(String, File)> {
    // Entries must be taken before the first await: the drop's data is cleared after the event.
    let items = transfer.items();
    let entries: Vec<FileSystemEntry> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect();
    if entries.is_empty() {
        return transfer.files().map(|l| from_list(&l)).unwrap_or_default();
    }
    let mut out = Vec::new();
    for entry in entries {
        walk(entry, &mut out).await;
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
