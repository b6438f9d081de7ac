//! The drop zone with its file and folder pickers.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};

use super::engine;
use super::files;
use super::state::use_state;

#[component]
pub fn DropZone() -> impl IntoView {
    let state = use_state();
    let over = RwSignal::new(false);
    let file_input = NodeRef::<Input>::new();
    let folder_input = NodeRef::<Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            input.set_webkitdirectory(true);
        }
    });
    let picked = move |ev: web_sys::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        if let Some(list) = input.files() {
            engine::enqueue(state, files::from_list(&list));
        }
        input.set_value("");
    };
    let dropped = move |ev: DragEvent| {
        ev.prevent_default();
        over.set(false);
        if let Some(transfer) = ev.data_transfer() {
            spawn_local(async move {
                let found = files::from_drop(transfer).await;
                if found.is_empty() {
                    state.notice("nothing to classify was dropped (no audio files found)");
                }
                engine::enqueue(state, found);
            });
        }
    };
    let open = move |node: NodeRef<Input>| {
        if let Some(input) = node.get() {
            input.click();
        }
    };
    view! {
        <div
            class="drop"
            class:over=move || over.get()
            data-testid="drop-zone"
            on:dragover=move |ev: DragEvent| {
                ev.prevent_default();
                over.set(true);
            }
            on:dragleave=move |_| over.set(false)
            on:drop=dropped
        >
            <p class="drop-title">"Drop songs or folders here"</p>
            <p class="drop-hint">"MP3, WAV, FLAC, OGG or M4A — one file, many, or a whole folder"</p>
            <div class="drop-buttons">
                <button type="button" on:click=move |_| open(file_input)>"Choose files…"</button>
                <button type="button" on:click=move |_| open(folder_input)>"Choose a folder…"</button>
            </div>
            <input
                type="file"
                class="hidden-input"
                multiple=true
                accept=".mp3,.wav,.flac,.ogg,.oga,.m4a,.mp4,.aac,audio/*"
                aria-label="Choose audio files"
                data-testid="file-input"
                node_ref=file_input
                on:change=picked
            />
            <input
                type="file"
                class="hidden-input"
                multiple=true
                aria-label="Choose a folder of audio files"
                data-testid="folder-input"
                node_ref=folder_input
                on:change=picked
            />
        </div>
    }
}
