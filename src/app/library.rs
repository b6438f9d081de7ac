//! The library: every classified track kept in IndexedDB, with its tempo and key, search, label
//! filters, a tempo range and a key or mode filter, sort, delete one or all, and export as CSV or JSON.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::db::{self, js_error};
use super::playable::forget_audio;
use super::export::{tasks_of, to_csv, to_json};
use super::format::{clock, percent};
use super::query::{Query, SortKey, keys_in_use, labels_in_use, tempo_bound};
use super::record::TrackRecord;
use super::state::{AppState, use_state};

/// Offers `text` as a file download.
fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|e| js_error("export", e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_error("export", e))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a =
        document.create_element("a").map_err(|e| js_error("export", e))?.unchecked_into::<web_sys::HtmlAnchorElement>();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // The download has started from the URL; it can go once the click was handled.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = web_sys::window()
        .ok_or("no window")?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    Ok(())
}

fn delete(state: AppState, id: Option<String>) {
    spawn_local(async move {
        let Some(db) = db::current() else {
            state.notice("the library is unavailable");
            return;
        };
        match db.delete_tracks(id.as_deref()).await {
            Ok(()) => {
                forget_audio(id.as_deref());
                state.library.update(|l| match &id {
                    Some(id) => l.retain(|t| &t.id != id),
                    None => l.clear(),
                });
                if id.is_none() || state.selected.get_untracked() == id {
                    state.selected.set(None);
                }
            }
            Err(e) => state.notice(e),
        }
    });
}

#[component]
pub fn Library() -> impl IntoView {
    let state = use_state();
    let query = RwSignal::new(Query::default());
    let confirm_all = RwSignal::new(false);
    let export = move |csv: bool| {
        let tracks = state.library.get_untracked();
        let shown: Vec<_> = query.with_untracked(|q| q.apply(&tracks).into_iter().cloned().collect());
        let result = if csv {
            download("musicat-library.csv", "text/csv", &to_csv(&shown))
        } else {
            download("musicat-library.json", "application/json", &to_json(&shown))
        };
        if let Err(e) = result {
            state.notice(e);
        }
    };
    // Recomputed only when the set of labels (or of tasks) changes, not for every new track.
    let choices = Memo::new(move |_| state.library.with(|tracks| labels_in_use(tracks)));
    let tasks = Memo::new(move |_| state.library.with(|tracks| tasks_of(tracks)));
    let keys = Memo::new(move |_| state.library.with(|tracks| keys_in_use(tracks)));
    let key_filter = move || {
        let options = keys
            .get()
            .into_iter()
            .map(|k| {
                let value = k.clone();
                let chosen = move || query.with(|q| q.key == value);
                view! { <option value=k.clone() selected=chosen>{k.clone()}</option> }
            })
            .collect_view();
        view! {
            <label class="filter">
                <span>"key"</span>
                <select data-testid="filter-key" on:change=move |ev| query.update(|q| q.key = event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="major">"any major"</option>
                    <option value="minor">"any minor"</option>
                    {options}
                </select>
            </label>
        }
    };
    let filters = move || {
        choices
            .get()
            .into_iter()
            .map(|(task, labels)| {
                let options = labels
                    .into_iter()
                    .map(|l| {
                        let (t, value) = (task.clone(), l.clone());
                        let chosen = move || query.with(|q| q.labels.get(&t) == Some(&value));
                        view! { <option value=l.clone() selected=chosen>{l.clone()}</option> }
                    })
                    .collect_view();
                let t = task.clone();
                view! {
                    <label class="filter">
                        <span>{task.clone()}</span>
                        <select data-testid=format!("filter-{task}") on:change=move |ev| {
                            let value = event_target_value(&ev);
                            query.update(|q| { q.labels.insert(t.clone(), value); });
                        }>
                            <option value="">"any"</option>
                            {options}
                        </select>
                    </label>
                }
            })
            .collect_view()
    };
    let row = move |track: TrackRecord| {
        let cells = tasks
            .get_untracked()
            .iter()
            .map(|task| {
                let v = track.report.tasks.get(task);
                let text = v.map(|v| format!("{} {}", v.label, percent(v.score))).unwrap_or_default();
                view! { <td data-task=task.clone()>{text}</td> }
            })
            .collect_view();
        let (id, id2) = (track.id.clone(), track.id.clone());
        let selected = {
            let id = track.id.clone();
            move || state.selected.get().as_deref() == Some(id.as_str())
        };
        view! {
            <tr data-testid="library-row" class:selected=selected>
                <th scope="row">
                    <button type="button" class="link" on:click=move |_| state.selected.set(Some(id.clone()))>{track.name.clone()}</button>
                </th>
                <td>{clock(track.report.duration_s)}</td>
                <td class="num" data-testid="library-tempo">{track.tempo().map(|t| format!("{t:.1}")).unwrap_or_default()}</td>
                <td data-testid="library-key">{track.key().map(str::to_string).unwrap_or_default()}</td>
                {cells}
                <td>
                    <button type="button" class="danger" aria-label=format!("delete {}", track.name)
                        on:click=move |_| delete(state, Some(id2.clone()))>"Delete"</button>
                </td>
            </tr>
        }
    };
    let shown =
        move || state.library.with(|tracks| query.with(|q| q.apply(tracks).into_iter().cloned().collect::<Vec<_>>()));
    let table = move || {
        view! {
            <table class="library-table">
                <thead>
                    <tr>
                        <th scope="col">"name"</th>
                        <th scope="col">"length"</th>
                        <th scope="col" class="num"><abbr title="tempo in beats per minute">"BPM"</abbr></th>
                        <th scope="col">"key"</th>
                        {move || tasks.get().into_iter().map(|t| view! { <th scope="col">{t}</th> }).collect_view()}
                        <th scope="col"><span class="sr-only">"actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    // Keyed by track (and the task columns): a new track adds one row.
                    <For each=shown key=move |t| (t.id.clone(), tasks.get_untracked().join(",")) children=row />
                </tbody>
            </table>
        }
    };
    // One end of the tempo range filter.
    let tempo_input = move |label: &'static str, test_id: &'static str, aria: &'static str, set: fn(&mut Query, Option<f32>)| {
        view! {
            <label class="filter">
                <span>{label}</span>
                <input type="number" min="1" max="400" step="1" inputmode="decimal" data-testid=test_id
                    aria-label=aria
                    on:input=move |ev| query.update(|q| set(q, tempo_bound(&event_target_value(&ev)))) />
            </label>
        }
    };
    view! {
        <section class="library" aria-label="Library" data-testid="library">
            <div class="library-head">
                <h2>"Library " <span class="count" data-testid="library-count">{move || state.library.with(|l| l.len())}</span></h2>
                <label class="search">
                    <span class="sr-only">"Search by name"</span>
                    <input type="search" placeholder="Search by name" data-testid="search"
                        on:input=move |ev| query.update(|q| q.search = event_target_value(&ev)) />
                </label>
                {filters}
                <fieldset class="filter tempo-range">
                    <legend class="sr-only">"Tempo range in beats per minute"</legend>
                    {tempo_input("BPM from", "tempo-min", "slowest tempo shown, BPM", |q, v| q.tempo_min = v)}
                    {tempo_input("to", "tempo-max", "fastest tempo shown, BPM", |q, v| q.tempo_max = v)}
                </fieldset>
                {key_filter}
                <label class="filter">
                    <span>"sort"</span>
                    <select data-testid="sort" on:change=move |ev| query.update(|q| q.sort = SortKey::from_name(&event_target_value(&ev)))>
                        {SortKey::ALL.iter().map(|(_, n)| view! { <option value=*n>{*n}</option> }).collect_view()}
                    </select>
                </label>
                <div class="library-actions">
                    <button type="button" data-testid="export-csv" on:click=move |_| export(true)>"Export CSV"</button>
                    <button type="button" data-testid="export-json" on:click=move |_| export(false)>"Export JSON"</button>
                    <Show
                        when=move || confirm_all.get()
                        fallback=move || view! {
                            <button type="button" class="danger" data-testid="delete-all"
                                disabled=move || state.library.with(|l| l.is_empty())
                                on:click=move |_| confirm_all.set(true)>"Delete all…"</button>
                        }
                    >
                        <span role="alert">"Delete every track? "</span>
                        <button type="button" class="danger" data-testid="delete-all-yes" on:click=move |_| {
                            confirm_all.set(false);
                            delete(state, None);
                        }>"Yes, delete all"</button>
                        <button type="button" on:click=move |_| confirm_all.set(false)>"No"</button>
                    </Show>
                </div>
            </div>
            <Show when=move || state.library.with(|l| !l.is_empty())
                fallback=|| view! { <p class="hint">"Classified tracks are kept here, in this browser only."</p> }>
                {table}
            </Show>
        </section>
    }
}
