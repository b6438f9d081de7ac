//! The batch: one row per dropped file with its progress or error, and the batch's progress.

use leptos::prelude::*;

use super::format::bytes;
use super::state::{Job, JobStatus, use_state};

#[component]
pub fn Batch() -> impl IntoView {
    let state = use_state();
    let totals = move || {
        state.jobs.with(|jobs| {
            let finished = jobs.iter().filter(|j| matches!(j.status, JobStatus::Done | JobStatus::Failed(_))).count();
            let failed = jobs.iter().filter(|j| matches!(j.status, JobStatus::Failed(_))).count();
            let running: f64 = jobs.iter().filter(|j| j.status == JobStatus::Running).map(|j| j.progress).sum();
            (jobs.len(), finished, failed, (finished as f64 + running) / jobs.len().max(1) as f64)
        })
    };
    let row = move |job: Job| {
        let (class, text) = match &job.status {
            JobStatus::Queued => ("queued", "waiting".to_string()),
            JobStatus::Running => ("running", format!("classifying {:.0}%", job.progress * 100.0)),
            JobStatus::Done => ("done", "done".to_string()),
            JobStatus::Failed(message) => ("failed", message.clone()),
        };
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
            <li class=format!("job {class}") class:selected=selected data-testid="job" data-status=class>
                <button type="button" class="job-name" disabled=!selectable on:click=select title="Show this track">
                    {job.name.clone()}
                </button>
                <span class="job-size">{bytes(job.size)}</span>
                <progress max="1" value=job.progress aria-label=format!("progress of {}", job.name)></progress>
                <span class="job-status" data-testid="job-status">{text}</span>
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
                            let (total, finished, failed, _) = totals();
                            format!("{finished} of {total} finished, {failed} failed")
                        }}
                    </span>
                    <button type="button" on:click=move |_| {
                        state.jobs.update(|j| j.retain(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running)))
                    }>"Clear finished"</button>
                </div>
                <progress class="batch-progress" max="1" value=move || totals().3 aria-label="batch progress"></progress>
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
