//! The model picker: switch shipped and own models on or off, and load your own bundle.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use super::catalog;
use super::state::{ModelSource, use_state};

#[component]
pub fn ModelPicker() -> impl IntoView {
    let state = use_state();
    let picked = move |ev: web_sys::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        let files: Vec<web_sys::File> =
            input.files().map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default();
        input.set_value("");
        spawn_local(catalog::add_own(state, files));
    };
    let entries = move || {
        state
            .models
            .get()
            .into_iter()
            .map(|m| {
                let name = m.name.clone();
                let remove_name = m.name.clone();
                let own = m.source == ModelSource::Own;
                let detail = match (&m.task, m.pending) {
                    (_, true) => "checking…".to_string(),
                    (Some(task), _) => format!("{task} · {} labels", m.labels.len()),
                    (None, _) => String::new(),
                };
                view! {
                    <li class="model" class:refused=m.error.is_some() data-testid="model" data-name=m.name.clone()>
                        <label>
                            <input type="checkbox" prop:checked=m.enabled
                                on:change=move |ev| catalog::toggle(state, &name, event_target_checked(&ev)) />
                            <span class="model-name">{m.name.clone()}</span>
                            <span class="model-source">{if own { "yours" } else { "shipped" }}</span>
                        </label>
                        <span class="model-detail">{detail}</span>
                        {m.error.clone().map(|e| view! { <p class="model-error" role="alert">{e}</p> })}
                        {own.then(|| view! {
                            <button type="button" class="link" aria-label=format!("remove model {}", m.name)
                                on:click=move |_| catalog::remove(state, &remove_name)>"remove"</button>
                        })}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="models" aria-label="Models">
            <h2>"Models"</h2>
            <ul class="model-list">{entries}</ul>
            <label class="own-model">
                <span>"Load your own model (its .onnx and .json together): "</span>
                <input type="file" multiple=true accept=".onnx,.json" data-testid="model-input" on:change=picked />
            </label>
        </section>
    }
}
