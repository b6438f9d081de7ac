//! `models/REPORT.md` and `models/index.json`, regenerated from the sidecars of every bundle
//! in the models directory.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::evaluation::ConfusionMatrix;
use crate::model::Sidecar;
use crate::model::runner::Activation;

/// Reads every sidecar in `dir` (sorted by task).
fn sidecars(dir: &Path) -> Result<Vec<Sidecar>, String> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_some_and(|e| e == "json") && path.with_extension("onnx").is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push(Sidecar::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    found.sort_by(|a, b| a.task.cmp(&b.task));
    Ok(found)
}

/// A fraction as a percentage with one decimal ("69.5%"), or a dash.
pub(super) fn pct(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:.1}%", x * 100.0))
}

/// A number with `digits` decimals, or a dash.
pub(super) fn num(v: &Value, digits: usize) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// Whether the bundle was trained by this trainer (it has validation figures), not brought in.
pub(super) fn trained_here(s: &Sidecar) -> bool {
    !s.metrics["validation"].is_null()
}

/// The other networks measured for a bundle's task (its `baseline_<name>` metrics), by name.
pub(super) fn baselines(s: &Sidecar) -> impl Iterator<Item = (&str, &Value)> {
    s.metrics.as_object().into_iter().flatten().filter_map(|(key, b)| Some((key.strip_prefix("baseline_")?, b)))
}

/// The accuracy table (also shown in README): trained bundles, with the other networks measured
/// for the same task (baselines) beside them.
pub fn accuracy_table(sidecars: &[Sidecar]) -> String {
    let mut out = String::from(
        "| task | labels | validation tracks | model | params | ONNX | train time | track accuracy | track macro-F1 | segment accuracy | k-fold CV over all tracks (acc / macro-F1) | other networks (track acc / macro-F1) |\n\
         |---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for s in sidecars.iter().filter(|s| trained_here(s)) {
        let v = &s.metrics["validation"];
        let baselines: Vec<String> = baselines(s)
            .map(|(name, b)| format!("{name} {} / {}", pct(&b["track_accuracy"]), num(&b["track_macro_f1"], 3)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.0} KB | {} s | {} | {} | {} | {} | {} |",
            s.task,
            s.labels.len(),
            v["validation_tracks"],
            v["architecture"].as_str().unwrap_or("?"),
            v["parameters"],
            v["onnx_bytes"].as_f64().unwrap_or(0.0) / 1024.0,
            v["train_seconds"],
            pct(&v["track_accuracy"]),
            num(&v["track_macro_f1"], 3),
            pct(&v["segment_accuracy"]),
            cv_all_cell(&s.metrics["cv_all"]),
            if baselines.is_empty() { "–".to_string() } else { baselines.join("; ") }
        );
    }
    out
}

/// The table cell of a `cv_all` measurement: "57.8% / 0.512 (5-fold, 116 tracks)", or "–".
fn cv_all_cell(cv: &Value) -> String {
    if cv.is_null() {
        return "–".into();
    }
    format!(
        "{} / {} ({}-fold, {} tracks)",
        pct(&cv["track_accuracy"]),
        num(&cv["track_macro_f1"], 3),
        cv["folds"],
        cv["tracks"]
    )
}

/// A bundle's front end and input, for its section.
fn features(s: &Sidecar) -> String {
    let f = &s.features;
    format!(
        "{} Hz, n_fft {}, hop {}, {} mel bands {:.0}–{:.0} Hz, {} s segments; input {:?}",
        f.sample_rate, f.n_fft, f.hop_length, f.n_mels, f.fmin, f.fmax, f.segment_seconds, s.input_shape
    )
}

/// The section of a bundle Musicat did not train (e.g. musicnn's own tags): where it comes from,
/// its front end and its labels, without the validation figures it does not have.
fn untrained_section(md: &mut String, s: &Sidecar) {
    for (key, value) in s.trained_on.as_object().into_iter().flatten() {
        let _ = writeln!(md, "- {key}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_string));
    }
    let _ = writeln!(
        md,
        "- features: {}; {} output(s) scored with {}; no validation figure (not trained here)",
        features(s),
        s.labels.len(),
        match s.activation {
            Activation::Softmax => "softmax",
            Activation::Sigmoid => "a sigmoid each (independent tags)",
        }
    );
    let _ = writeln!(md, "- labels: {}", s.labels.join(", "));
}

/// Rewrites `REPORT.md` and `index.json` in `dir`.
pub fn write(dir: &Path) -> Result<(), String> {
    let sidecars = sidecars(dir)?;
    let mut md = String::from(
        "# Models report\n\nRegenerated by `train` from the sidecars in this folder. Every figure is measured on the \
         held-out validation split by running the exported ONNX through the same inference path as `classify` and the \
         app (track verdict = mean of segment probabilities, digital silence left out). A network whose training line says \
         \"best epoch N\" stopped early on the epoch with the best validation macro-F1, so its figures are slightly \
         optimistic for unseen recordings. A head shown with a cross-validation table never saw the validation split \
         while being made: its configuration was chosen by grouped cross-validation inside the training split, it \
         trained a fixed number of epochs, and validation was measured once at the end. The k-fold column is a \
         steadier figure where a validation split is small: the head's configuration retrained in each of k folds \
         over all the task's tracks (grouped as the split is), each track scored once, from the cached backbone \
         embeddings (the same mean of segment probabilities, computed by the trainer).\n\n",
    );
    md.push_str(&accuracy_table(&sidecars));
    md.push_str(&super::speed_report::section(dir, &sidecars)?);
    for s in &sidecars {
        let _ = writeln!(md, "\n## {}\n", s.task);
        let t = &s.trained_on;
        if !trained_here(s) {
            untrained_section(&mut md, s);
            continue;
        }
        let _ = writeln!(md, "- split: {}", t["split"].as_str().unwrap_or("?"));
        for note in t["notes"].as_array().into_iter().flatten() {
            let _ = writeln!(md, "- {}", note.as_str().unwrap_or(""));
        }
        let v = &s.metrics["validation"];
        let _ = writeln!(md, "- network: {}", v["description"].as_str().unwrap_or("?"));
        let _ = writeln!(md, "- features: {}", features(s));
        let stopping = if v["best_epoch"].is_null() {
            "fixed schedule, last epoch kept".to_string()
        } else {
            format!("best epoch {}", v["best_epoch"])
        };
        let _ = writeln!(
            md,
            "- training: {} epochs run, {stopping}, {} s on this machine (2 cores); command: `{}`",
            v["epochs_run"],
            v["train_seconds"],
            s.metrics["command"].as_str().unwrap_or("?")
        );
        let selection = &v["selection"];
        if let Some(candidates) = selection["candidates"].as_array().filter(|c| !c.is_empty()) {
            let _ = writeln!(
                md,
                "- head `{}`, chosen from the candidates below by {} ({} folds)\n\n| candidate head | CV track accuracy | CV track macro-F1 |\n|---|---:|---:|",
                selection["head"].as_str().unwrap_or("?"),
                selection["rule"].as_str().unwrap_or("cross-validation"),
                selection["folds"]
            );
            for c in candidates {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    c["head"].as_str().unwrap_or("?"),
                    pct(&c["cv_track_accuracy"]),
                    num(&c["cv_track_macro_f1"], 3)
                );
            }
            md.push('\n');
        }
        let _ = writeln!(
            md,
            "- validation: track accuracy {}, macro-F1 {}; segment accuracy {} over {} segments\n",
            pct(&v["track_accuracy"]),
            num(&v["track_macro_f1"], 3),
            pct(&v["segment_accuracy"]),
            v["validation_segments"]
        );
        if let Some(history) = v["remeasured"].as_array().filter(|h| !h.is_empty()) {
            let before: Vec<String> = history.iter().map(|r| pct(&r["previous_track_accuracy"])).collect();
            let _ = writeln!(
                md,
                "- re-measured {} time(s) through the current inference path (after backbone or inference changes), last with `{}`; track accuracy before each: {}\n",
                history.len(),
                history.last().and_then(|r| r["command"].as_str()).unwrap_or("?"),
                before.join(", ")
            );
        }
        let cv = &s.metrics["cv_all"];
        if !cv.is_null() {
            let _ = writeln!(
                md,
                "- k-fold cross-validation over all tracks (track accuracy / macro-F1): {}, each track held out once, grouped as the split above; network: {}; command: `{}`\n",
                cv_all_cell(cv),
                cv["description"].as_str().unwrap_or("?"),
                cv["command"].as_str().unwrap_or("?")
            );
        }
        md.push_str("| label | train tracks | validation tracks |\n|---|---:|---:|\n");
        for label in &s.labels {
            let _ = writeln!(md, "| {label} | {} | {} |", t["train_counts"][label], t["validation_counts"][label]);
        }
        if let Ok(matrix) = serde_json::from_value::<ConfusionMatrix>(v["track_confusion"].clone()) {
            let figure = format!("{}-confusion.png", s.task);
            let title = format!(
                "{}: {} validation tracks, track accuracy {}",
                s.task,
                matrix.total(),
                pct(&v["track_accuracy"])
            );
            super::confusion_png::write_png(&matrix, &title, &dir.join(&figure))?;
            md.push_str("\nTrack-level confusion matrix (rows: truth, columns: prediction):\n\n");
            let _ = writeln!(md, "![{} confusion matrix]({figure})\n", s.task);
            md.push_str(&matrix.to_markdown());
        }
    }
    md.push_str(&super::backbone_report::section(dir, &sidecars)?);
    std::fs::write(dir.join("REPORT.md"), md).map_err(|e| e.to_string())?;
    let index = serde_json::json!({ "bundles": sidecars.iter().map(|s| s.task.clone()).collect::<Vec<_>>() });
    std::fs::write(dir.join("index.json"), serde_json::to_string_pretty(&index).map_err(|e| e.to_string())? + "\n")
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_not_trained_here_gets_its_origin_and_labels_not_empty_figures() {
        let dir = std::env::temp_dir().join(format!("musicat-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tags.json"), include_str!("../../models/tags.json")).unwrap();
        std::fs::write(dir.join("tags.onnx"), b"not read by the report").unwrap();
        write(&dir).unwrap();
        let report = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let section = report.split("## tags").nth(1).expect("a tags section");
        assert!(section.contains("not trained by Musicat"), "{section}");
        assert!(section.contains("no validation figure"), "{section}");
        assert!(section.contains("female vocalists"), "{section}");
        assert!(!section.contains("null") && !section.contains(": ?"), "{section}");
    }
}
