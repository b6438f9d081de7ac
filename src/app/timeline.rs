//! The timeline: a row of 5-second slices per task, coloured by label; the slice under the
//! playhead is highlighted and a click (or Enter) on a slice seeks there.

use leptos::prelude::*;

use super::format::{clock, label_colour, percent};
use super::record::TrackRecord;
use super::state::use_state;

#[component]
pub fn Timeline(track: TrackRecord) -> impl IntoView {
    let state = use_state();
    let duration = track.report.duration_s.max(track.report.segments.last().map_or(0.0, |s| s.end_s)).max(0.001);
    let rows = track
        .report
        .tasks
        .iter()
        .map(|(task, verdict)| {
            let slices = track
                .report
                .segments
                .iter()
                // Tasks with other segment lengths have their own slices: keep this task's and silence.
                .filter(|s| s.silent || s.tasks.contains_key(task))
                .map(|s| {
                    let (start, end) = (s.start_s, s.end_s.max(s.start_s));
                    let label = s.tasks.get(task);
                    let text = match label {
                        Some(l) => format!("{}–{} {task}: {} {}", clock(start), clock(end), l.label, percent(l.score)),
                        None => format!("{}–{}: silence", clock(start), clock(end)),
                    };
                    let colour = label.map_or("transparent".to_string(), |l| label_colour(Some(verdict), &l.label));
                    let current = move || {
                        let t = state.time.get();
                        t >= start && t < end
                    };
                    view! {
                        <button
                            type="button"
                            class="slice"
                            class:silent=s.silent
                            class:current=current
                            data-testid="slice"
                            title=text.clone()
                            aria-label=text
                            style:left=format!("{:.3}%", start / duration * 100.0)
                            style:width=format!("{:.3}%", (end - start) / duration * 100.0)
                            style:background-color=colour
                            on:click=move |_| state.seek.set(Some(start))
                        ></button>
                    }
                })
                .collect_view();
            view! {
                <div class="timeline-row">
                    <span class="timeline-task">{task.clone()}</span>
                    <div class="timeline-track" role="group" aria-label=format!("{task} timeline")>{slices}</div>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="timeline" data-testid="timeline" aria-label="Timeline of 5-second slices">
            {rows}
        </section>
    }
}
