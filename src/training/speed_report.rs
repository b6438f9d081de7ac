//! The side-by-side part of `models/REPORT.md`: per task, the shipped network against the others
//! measured for it (e.g. the from-scratch CNN): accuracy, size, and the time per 3-minute track
//! natively and in the browser, read from the `speed.json` that `bench/task_times.sh` writes.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::report::{baselines, num, pct, trained_here};
use crate::model::Sidecar;

/// The speed record's file name in the models folder.
pub const SPEED_FILE: &str = "speed.json";

/// The section (empty when no bundle in `dir` was trained here).
pub fn section(dir: &Path, sidecars: &[Sidecar]) -> Result<String, String> {
    let trained: Vec<&Sidecar> = sidecars.iter().filter(|s| trained_here(s)).collect();
    if trained.is_empty() {
        return Ok(String::new());
    }
    let path = dir.join(SPEED_FILE);
    let speed: Value = if path.is_file() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        Value::Null
    };
    let mut md = String::from("\n## Shipped against from scratch, side by side\n\n");
    if speed.is_null() {
        let _ = writeln!(
            md,
            "No time measured: {} is missing (`bash bench/task_times.sh --other cnn=DIR --other seed=DIR` writes it).\n",
            path.display()
        );
    } else {
        let _ = writeln!(
            md,
            "Time per track: {}, {} run(s) each, measured {} on {} (commit {}) with `{}`. Natively: {}. In the browser: {}. \
             Each model runs alone (a models folder holding only its bundle and the backbone it names), with the \
             descriptors (tempo, key, loudness…) that every track gets. The size of a head on the backbone is the \
             head's ONNX plus the backbone it shares with the other heads. A from-scratch network is timed as \
             `bench/task_times.sh` says to make it (the same network trained one epoch: its time does not depend on \
             its weights); its accuracy is that of its full training, from the sidecar. Each time is the median, then \
             the fastest and the slowest run. A dash: not timed.\n",
            text(&speed["track"]),
            speed["runs"],
            text(&speed["measured"]),
            text(&speed["machine"]),
            text(&speed["commit"]),
            text(&speed["command"]),
            text(&speed["native"]),
            text(&speed["browser"]),
        );
    }
    md.push_str(
        "| task | network | validation track accuracy | track macro-F1 | size | native, s per 3-min track | native without descriptors | browser, s per 3-min track |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in trained {
        let shipped = &s.metrics["validation"];
        let architecture = text(&shipped["architecture"]);
        let backbone_bytes =
            s.backbone.as_ref().and_then(|b| std::fs::metadata(dir.join(&b.file)).ok()).map(|m| m.len());
        let size = match backbone_bytes {
            Some(b) => format!("{} + {} backbone", kilobytes(&shipped["onnx_bytes"]), megabytes(b)),
            None => kilobytes(&shipped["onnx_bytes"]),
        };
        row(
            &mut md,
            &s.task,
            &format!("{architecture} (shipped)"),
            shipped,
            &size,
            find(&speed, &s.task, &architecture),
        );
        for (name, measured) in baselines(s) {
            row(&mut md, &s.task, name, measured, &kilobytes(&measured["onnx_bytes"]), find(&speed, &s.task, name));
        }
    }
    if let Some(all) = find(&speed, "all", "shipped") {
        let [native, bare, browser] = times(Some(all));
        let _ = writeln!(md, "| all shipped models together | | | | | {native} | {bare} | {browser} |");
    }
    Ok(md)
}

/// One network's row.
fn row(md: &mut String, task: &str, network: &str, measured: &Value, size: &str, speed: Option<&Value>) {
    let [native, bare, browser] = times(speed);
    let (accuracy, f1) = (pct(&measured["track_accuracy"]), num(&measured["track_macro_f1"], 3));
    let _ = writeln!(md, "| {task} | {network} | {accuracy} | {f1} | {size} | {native} | {bare} | {browser} |");
}

/// A speed row's seconds (native, native without descriptors, browser), or dashes. Each is the
/// median, then the range of the runs when there were several: "2.04 (1.95–2.15)".
fn times(row: Option<&Value>) -> [String; 3] {
    let row = row.unwrap_or(&Value::Null);
    [
        ("native_seconds", "native_runs"),
        ("native_models_only_seconds", "native_models_only_runs"),
        ("browser_seconds", "browser_runs"),
    ]
    .map(|(median, runs)| {
        let runs: Vec<f64> = row[runs].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        let low = runs.iter().copied().fold(f64::INFINITY, f64::min);
        let high = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        match num(&row[median], 2) {
            m if runs.len() > 1 && m != "–" => format!("{m} ({low:.2}–{high:.2})"),
            m => m,
        }
    })
}

/// The speed row of `task`'s `model`.
fn find<'a>(speed: &'a Value, task: &str, model: &str) -> Option<&'a Value> {
    speed["rows"].as_array()?.iter().find(|r| r["task"] == task && r["model"] == model)
}

fn kilobytes(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |b| format!("{:.0} KB", b / 1024.0))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A models folder holding the shipped genre sidecar (a head on the backbone, with a `cnn`
    /// baseline) and, if given, a speed record.
    fn report_of(speed: Option<&str>) -> String {
        let dir = std::env::temp_dir().join(format!("musicat-speed-{}-{}", std::process::id(), speed.is_some()));
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(speed) = speed {
            std::fs::write(dir.join(SPEED_FILE), speed).unwrap();
        }
        let sidecar = Sidecar::from_json(include_str!("../../models/genre.json")).unwrap();
        let md = section(&dir, &[sidecar]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        md
    }

    #[test]
    fn each_network_gets_the_times_measured_for_its_task_and_kind() {
        let speed = r#"{"measured": "today", "runs": 3, "rows": [
            {"task": "genre", "model": "musicnn-head", "native_seconds": 1.234, "native_models_only_seconds": 0.8, "browser_seconds": 1.9, "browser_runs": [2.5, 1.9, 1.75]},
            {"task": "mood", "model": "musicnn-head", "native_seconds": 9.0, "browser_seconds": 9.0},
            {"task": "genre", "model": "cnn", "native_seconds": 0.5, "browser_seconds": null},
            {"task": "all", "model": "shipped", "native_seconds": 1.5, "native_models_only_seconds": 1.0, "browser_seconds": 2.25}]}"#;
        let md = report_of(Some(speed));
        let line = |start: &str| md.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{start}: {md}"));
        assert!(line("| genre | musicnn-head (shipped) |").ends_with("| 1.23 | 0.80 | 1.90 (1.75–2.50) |"), "{md}");
        assert!(line("| genre | cnn |").ends_with("| 391 KB | 0.50 | – | – |"), "{md}");
        assert!(line("| genre | seed |").ends_with("| – | – | – |"), "{md}");
        assert!(line("| all shipped models together |").ends_with("| 1.50 | 1.00 | 2.25 |"), "{md}");
        assert!(!md.contains("9.00"), "another task's time: {md}");
    }

    #[test]
    fn without_a_speed_record_the_report_says_so_and_shows_no_times() {
        let md = report_of(None);
        assert!(md.contains("No time measured"), "{md}");
        assert!(md.lines().filter(|l| l.starts_with("| genre |")).all(|l| l.ends_with("| – | – | – |")), "{md}");
    }
}
