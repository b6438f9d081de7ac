//! The browser app: a Leptos page that hands dropped files to a Web Worker for classification
//! and shows, plays and keeps the results. Pure logic (records, export, queries, formatting)
//! also compiles natively so `cargo test` covers it; the components are wasm32 only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod export;
pub mod format;
pub mod query;
pub mod record;

/// Declares the modules that only make sense in the browser (they use web-sys and Leptos).
macro_rules! browser_modules {
    ($($name:ident),* $(,)?) => { $( #[cfg(target_arch = "wasm32")] mod $name; )* };
}

browser_modules!(
    backbones,
    batch,
    bundle_store,
    catalog,
    db,
    descriptors,
    drop_zone,
    engine,
    fetch,
    files,
    in_flight,
    library,
    model_picker,
    player,
    playable,
    spectrogram,
    state,
    timeline,
    verdicts,
    worker_module
);

#[cfg(target_arch = "wasm32")]
pub use root::start;

#[cfg(target_arch = "wasm32")]
mod root {
    use leptos::prelude::*;
    use leptos::task::spawn_local;

    use super::batch::Batch;
    use super::db::{self, Db};
    use super::drop_zone::DropZone;
    use super::library::Library;
    use super::model_picker::ModelPicker;
    use super::player::TrackView;
    use super::state::{AppState, EngineStatus, use_state};
    use super::{catalog, engine};

    /// Mounts the app and starts the worker, the library and the service worker.
    pub fn start() {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(App);
    }

    fn register_service_worker() {
        let Some(window) = web_sys::window() else { return };
        let promise = window.navigator().service_worker().register("./sw.js");
        spawn_local(async move {
            if let Err(e) = wasm_bindgen_futures::JsFuture::from(promise).await {
                web_sys::console::warn_2(&"offline mode unavailable (service worker):".into(), &e);
            }
        });
    }

    #[component]
    fn App() -> impl IntoView {
        let state = AppState::new();
        provide_context(state);
        // The workers start (and compile their wasm) while the library and the models load.
        engine::start(state);
        spawn_local(async move {
            match Db::open().await {
                Ok(db) => {
                    match db.load_tracks().await {
                        Ok(tracks) => state.library.set(tracks),
                        Err(e) => state.notice(e),
                    }
                    db::set_current(db);
                }
                Err(e) => state.notice(e),
            }
            catalog::load(state).await;
        });
        register_service_worker();
        view! {
            <header class="top">
                <h1>"Musicat"</h1>
                <p class="tagline">
                    "Genre, mood and style of your music, slice by slice. "
                    <strong>"Everything runs in this browser: your files never leave this machine."</strong>
                </p>
                <EngineBadge />
            </header>
            <Notices />
            <main class="layout">
                <section class="left" aria-label="Add files">
                    <DropZone />
                    <Batch />
                    <ModelPicker />
                </section>
                <section class="right" aria-label="Selected track">
                    <TrackView />
                </section>
            </main>
            <Library />
            <footer class="foot">
                "Musicat decodes, analyses and classifies in a Web Worker with WebAssembly; results are kept in this browser's IndexedDB. No network request is made while classifying, and the app works offline once loaded."
            </footer>
        }
    }

    #[component]
    fn EngineBadge() -> impl IntoView {
        let state = use_state();
        let text = move || match state.engine.get() {
            EngineStatus::Starting => "starting the analyser…".to_string(),
            EngineStatus::LoadingModels => "loading models…".to_string(),
            EngineStatus::Ready => {
                let tasks: Vec<String> = state.models.with(|m| {
                    m.iter().filter(|e| e.enabled && e.error.is_none()).filter_map(|e| e.task.clone()).collect()
                });
                format!("ready: {}", tasks.join(", "))
            }
            EngineStatus::NoModels => "no model switched on".to_string(),
            EngineStatus::Failed(e) => e,
        };
        let ready = move || state.engine.get() == EngineStatus::Ready;
        let workers = engine::pool_size();
        let title = format!("{workers} analyser(s) in Web Workers, one per processor core");
        view! {
            <p
                class="engine"
                class:ready=ready
                role="status"
                data-testid="engine"
                data-workers=workers
                data-workers-ready=move || state.workers_ready.get()
                title=title
            >
                {text}
            </p>
        }
    }

    #[component]
    fn Notices() -> impl IntoView {
        let state = use_state();
        view! {
            <Show when=move || state.notices.with(|n| !n.is_empty())>
                <div class="notices" role="alert">
                    <ul>
                        {move || state.notices.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                    </ul>
                    <button type="button" on:click=move |_| state.notices.set(Vec::new())>"Dismiss"</button>
                </div>
            </Show>
        }
    }
}
