//! The timeline: a row of 5-second slices per task, coloured by label; the slice under the
//! playhead is highlighted and a click (or Enter) on a slice seeks there. Under them, the beats
//! the tempo tracker found, as ticks.

use leptos::prelude::*;

use super::format::{bpm, clock, label_colour, percent};
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
    let beats = track.descriptors().filter(|d| !d.beats_s.is_empty()).map(|d| {
        // One path of vertical ticks on a 1000-unit-wide box: one element however many beats.
        let shown: Vec<f64> =
            d.beats_s.iter().map(|&b| b as f64).filter(|b| b.is_finite() && (0.0..=duration).contains(b)).collect();
        let path: String = shown.iter().map(|b| format!("M{:.2} 0V1", b / duration * 1000.0)).collect();
        let label =
            format!("{} beats{}", shown.len(), d.tempo_bpm.map(|t| format!(", {}", bpm(t))).unwrap_or_default());
        view! {
            <div class="timeline-row">
                <span class="timeline-task">"beats"</span>
                <svg class="beats" data-testid="beats" data-count=shown.len().to_string() role="img"
                    aria-label=label viewBox="0 0 1000 1" preserveAspectRatio="none">
                    <path d=path vector-effect="non-scaling-stroke"></path>
                </svg>
            </div>
        }
    });
    view! {
        <section class="timeline" data-testid="timeline" aria-label="Timeline of 5-second slices">
            {rows}
            {beats}
        </section>
    }
}
