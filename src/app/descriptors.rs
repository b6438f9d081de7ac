//! The selected track's musical descriptors beside its verdicts: tempo, key, loudness (with
//! its range and true peak), and energy and danceability as bars.

use leptos::prelude::*;

use super::format::{bpm, level, percent};
use super::record::TrackRecord;

/// A 0–1 score as a labelled bar (a `meter` for screen readers).
fn score_bar(name: &'static str, score: f32, hint: &'static str) -> impl IntoView {
    let score = if score.is_finite() { score.clamp(0.0, 1.0) } else { 0.0 };
    view! {
        <div class="descriptor" data-testid=format!("descriptor-{name}") title=hint>
            <dt>{name}</dt>
            <dd>
                <span class="bar" role="meter" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=format!("{:.0}", score * 100.0) aria-label=format!("{name} (0 to 100)")>
                    <span class="fill descriptor-fill" style:width=format!("{:.1}%", score * 100.0)></span>
                </span>
                <span class="descriptor-value">{percent(score)}</span>
            </dd>
        </div>
    }
}

#[component]
pub fn DescriptorView(track: TrackRecord) -> impl IntoView {
    let Some(d) = track.descriptors().cloned() else {
        return view! {
            <p class="hint descriptors-missing" data-testid="descriptors-missing">
                "Tempo, key and loudness were not measured for this track: classify the file again to get them."
            </p>
        }
        .into_any();
    };
    let tempo = d.tempo_bpm.map_or_else(|| "no steady beat".to_string(), bpm);
    let key = d.key.clone().unwrap_or_else(|| "no clear key".to_string());
    let key_hint = d.key_strength.map(|s| format!("fit with the key's profile: {s:.2} (−1 to 1)")).unwrap_or_default();
    let loudness = level(d.loudness_lufs, "LUFS");
    let detail = format!(
        "range {} · true peak {}",
        level(d.loudness_range_lu, "LU"),
        level(d.true_peak_dbtp.or(d.peak_dbfs), if d.true_peak_dbtp.is_some() { "dBTP" } else { "dBFS" })
    );
    view! {
        <section class="descriptors" aria-label="Tempo, key and loudness" data-testid="descriptors">
            <dl>
                <div class="descriptor">
                    <dt>"tempo"</dt>
                    <dd data-testid="descriptor-tempo" data-bpm=d.tempo_bpm.map(|t| format!("{t:.2}"))>{tempo}</dd>
                </div>
                <div class="descriptor" title=key_hint>
                    <dt>"key"</dt>
                    <dd data-testid="descriptor-key">{key}</dd>
                </div>
                <div class="descriptor" title="integrated loudness (EBU R128), its range, and the true peak">
                    <dt>"loudness"</dt>
                    <dd data-testid="descriptor-loudness">
                        {loudness}
                        <span class="descriptor-detail">{detail}</span>
                    </dd>
                </div>
                {score_bar("energy", d.energy, "loudness and onset activity, 0 to 100")}
                {score_bar("danceability", d.danceability, "pulse clarity, beat strength and tempo, 0 to 100")}
            </dl>
        </section>
    }
    .into_any()
}
