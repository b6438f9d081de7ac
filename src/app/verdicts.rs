//! The verdict of each task: label, confidence bar and the top 3 labels (of a multi-label task
//! such as tags, the top 5 tags, each with its own probability).

use leptos::prelude::*;

use super::format::{label_colour, percent};
use super::record::TrackRecord;

#[component]
pub fn Verdicts(track: TrackRecord) -> impl IntoView {
    let tasks = track
        .report
        .tasks
        .iter()
        .map(|(task, verdict)| {
            let count = track.top_count(task);
            let tags = track.multi_label.contains(task);
            let top = verdict
                .top(count)
                .into_iter()
                .map(|(label, score)| {
                    let colour = label_colour(Some(verdict), label);
                    view! {
                        <li class="top-item">
                            <span class="top-label">{label.to_string()}</span>
                            <span class="bar" role="meter" aria-valuemin="0" aria-valuemax="100"
                                aria-valuenow=format!("{:.0}", score * 100.0) aria-label=format!("{label} confidence")>
                                <span class="fill" style:width=format!("{:.1}%", score * 100.0) style:background-color=colour></span>
                            </span>
                            <span class="top-score">{percent(score)}</span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="verdict" data-testid="verdict" data-task=task.clone() data-multi-label=tags.to_string()>
                    <h3>
                        <span class="task">{task.clone()}</span>
                        <span class="label" data-testid="verdict-label">{verdict.label.clone()}</span>
                        <span class="score">{percent(verdict.score)}</span>
                    </h3>
                    {tags.then(|| view! { <p class="hint tags-note">"each tag scored on its own"</p> })}
                    <ol class="tops" aria-label=format!("top {count} {task}")>{top}</ol>
                </div>
            }
        })
        .collect_view();
    view! { <section class="verdicts" aria-label="Verdicts">{tasks}</section> }
}
