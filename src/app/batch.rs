//! The batch: one row per dropped file with its progress or error, the batch's progress, and Cancel.

use leptos::prelude::*;
use crate::worker_api::StageMs;

use super::engine::cancel;
use super::format::bytes;
use super::state::{Job, JobStatus, use_state};

/// The batch's counts, and the fraction done.
#[derive(Clone, Copy)]
struct Totals {
    total: usize,
    finished: usize,
    failed: usize,
    cancelled: usize,
    fraction: f64,
}

#[component]
pub fn Batch() -> impl IntoView {
    let state = use_state();
    let totals = move || {
        state.jobs.with(|jobs| {
            let finished = jobs.iter().filter(|j| j.status.is_finished()).count();
            let failed = jobs.iter().filter(|j| matches!(j.status, JobStatus::Failed(_))).count();
            let cancelled = jobs.iter().filter(|j| j.status == JobStatus::Cancelled).count();
            let running: f64 = jobs.iter().filter(|j| j.status == JobStatus::Running).map(|j| j.progress).sum();
            let fraction = (finished as f64 + running) / jobs.len().max(1) as f64;
            Totals { total: jobs.len(), finished, failed, cancelled, fraction }
        })
    };
    let waiting = move || state.jobs.with(|jobs| jobs.iter().any(|j| j.status == JobStatus::Queued));
    let row = move |job: Job| {
        let (class, text) = match &job.status {
            JobStatus::Queued => ("queued", "waiting".to_string()),
            JobStatus::Running if job.workers > 1 => {
                ("running", format!("classifying {:.0}% on {} workers", job.progress * 100.0, job.workers))
            }
            JobStatus::Running => ("running", format!("classifying {:.0}%", job.progress * 100.0)),
            JobStatus::Done => ("done", "done".to_string()),
            JobStatus::Failed(message) => ("failed", message.clone()),
            JobStatus::Cancelled => ("cancelled", "cancelled".to_string()),
        };
        // Where the time went, per worker: shown on hover, and read by the browser benchmark.
        let stages = serde_json::to_string(&job.stages).unwrap_or_default();
        let stage_summary = StageMs::summaries(&job.stages);
        let track = job.track_id.clone();
        let selectable = track.is_some();
        let select = move |_| {
            if let Some(id) = track.clone() {
                state.selected.set(Some(id));
            }
        };
        let selected = {
            let id = job.track_id.clone();
            move || id.is_some() && state.selected.get() == id
        };
        view! {
            <li
                class=format!("job {class}")
                class:selected=selected
                data-testid="job"
                data-status=class
                data-workers=job.workers
            >
                <button type="button" class="job-name" disabled=!selectable on:click=select title="Show this track">
                    {job.name.clone()}
                </button>
                <span class="job-size">{bytes(job.size)}</span>
                <progress max="1" value=job.progress aria-label=format!("progress of {}", job.name)></progress>
                <span class="job-status" data-testid="job-status" data-stages=stages title=stage_summary>
                    {text}
                </span>
            </li>
        }
    };
    view! {
        <Show when=move || state.jobs.with(|j| !j.is_empty())>
            <section class="batch" aria-label="Files in this batch">
                <div class="batch-head">
                    <h2>"Batch"</h2>
                    <span data-testid="batch-summary" role="status">
                        {move || {
                            let Totals { total, finished, failed, cancelled, .. } = totals();
                            let cancelled = if cancelled > 0 { format!(", {cancelled} cancelled") } else { String::new() };
                            format!("{finished} of {total} finished, {failed} failed{cancelled}")
                        }}
                    </span>
                    <Show when=waiting>
                        <button
                            type="button"
                            data-testid="cancel-batch"
                            aria-label="Cancel the batch: files still waiting are not classified"
                            title="Files still waiting are not classified; the one in progress finishes"
                            on:click=move |_| cancel(state)
                        >
                            "Cancel"
                        </button>
                    </Show>
                    <button type="button" on:click=move |_| {
                        state.jobs.update(|j| j.retain(|j| !j.status.is_finished()))
                    }>"Clear finished"</button>
                </div>
                <progress class="batch-progress" max="1" value=move || totals().fraction aria-label="batch progress"></progress>
                <ul class="jobs">
                    // Keyed by what a row shows: a progress or status change redraws that row only.
                    <For
                        each=move || state.jobs.get()
                        key=|job| (job.id, format!("{:?}", job.status), (job.progress * 100.0) as u32)
                        children=row
                    />
                </ul>
            </section>
        </Show>
    }
}
