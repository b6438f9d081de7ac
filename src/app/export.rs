//! The library as CSV (one row per track, a verdict, confidence and top 3 per task, top 5 for a
//! multi-label task, then the descriptors in the CLI's columns) and JSON.

use std::collections::BTreeSet;

use super::record::{TOP_LABELS, TrackRecord};
use crate::report::Descriptors;

/// Quotes a CSV field when needed (RFC 4180), and defuses spreadsheet formulas.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// The tasks any of the tracks was classified for, sorted.
pub fn tasks_of(tracks: &[TrackRecord]) -> Vec<String> {
    let tasks: BTreeSet<&String> = tracks.iter().flat_map(|t| t.report.tasks.keys()).collect();
    tasks.into_iter().cloned().collect()
}

/// How many labels the CSV lists for `task`: the most any of the tracks shows.
fn top_count(tracks: &[TrackRecord], task: &str) -> usize {
    tracks.iter().filter(|t| t.report.tasks.contains_key(task)).map(|t| t.top_count(task)).max().unwrap_or(TOP_LABELS)
}

/// CSV with a header: `name,format,duration_s,added_ms`, then `<task>,<task>_confidence,<task>_top3`
/// for every task (`<task>_top5` for a multi-label one), then the descriptors' columns as the
/// `classify` CLI writes them (`tempo_bpm,key,loudness_lufs,…`; empty where unknown).
pub fn to_csv(tracks: &[TrackRecord]) -> String {
    let tasks: Vec<(String, usize)> = tasks_of(tracks)
        .into_iter()
        .map(|task| {
            let k = top_count(tracks, &task);
            (task, k)
        })
        .collect();
    let mut header = vec!["name".to_string(), "format".into(), "duration_s".into(), "added_ms".into()];
    for (task, k) in &tasks {
        header.extend([task.clone(), format!("{task}_confidence"), format!("{task}_top{k}")]);
    }
    header.extend(Descriptors::CSV_COLUMNS.map(String::from));
    let mut out = header.iter().map(|h| field(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for track in tracks {
        let mut row = vec![
            field(&track.name),
            field(&track.format),
            format!("{:.2}", track.report.duration_s),
            format!("{:.0}", track.added_ms),
        ];
        for (task, k) in &tasks {
            match track.report.tasks.get(task) {
                Some(v) => {
                    let top: Vec<String> = v.top(*k).iter().map(|(l, s)| format!("{l} {s:.3}")).collect();
                    row.extend([field(&v.label), format!("{:.4}", v.score), field(&top.join("; "))]);
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        // Numbers as they are (a negative loudness is no formula); the key is text.
        let mut cells = Descriptors::csv_cells(track.descriptors());
        cells[1] = field(&cells[1]);
        row.extend(cells);
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Pretty JSON: an array of the records with their verdicts, timelines and descriptors.
pub fn to_json(tracks: &[TrackRecord]) -> String {
    serde_json::to_string_pretty(tracks).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::super::record::tests::{described, sample, tagged};
    use super::*;

    #[test]
    fn csv_has_a_row_per_track_with_quoted_names_and_top3() {
        let mut a = sample("1", "Hello, \"world\".mp3", "jazz", 1.0);
        a.report.tasks.remove("mood");
        let b = sample("2", "=SUM(A1).mp3", "rock", 2.0);
        let csv = to_csv(&[a, b]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        let none = ",,,,,,,";
        assert_eq!(
            lines[0],
            "name,format,duration_s,added_ms,genre,genre_confidence,genre_top3,mood,mood_confidence,mood_top3,\
             tempo_bpm,key,loudness_lufs,loudness_range_lu,peak_dbfs,true_peak_dbtp,energy,danceability"
        );
        assert_eq!(
            lines[1],
            format!("\"Hello, \"\"world\"\".mp3\",mp3,15.00,1,jazz,0.7500,jazz 0.750; zzz 0.250,,,,{none}")
        );
        assert_eq!(
            lines[2],
            format!(
                "'=SUM(A1).mp3,mp3,15.00,2,rock,0.7500,rock 0.750; zzz 0.250,calm,0.7500,calm 0.750; angry 0.250,{none}"
            )
        );
        assert_eq!(lines[3], "");
    }

    #[test]
    fn a_multi_label_task_exports_its_top_5_tags() {
        let csv = to_csv(&[tagged("1", "a.mp3", 1.0), sample("2", "b.mp3", "rock", 2.0)]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].contains(",tags,tags_confidence,tags_top5,tempo_bpm,"), "{}", lines[0]);
        assert!(
            lines[1]
                .ends_with(",rock,0.9000,rock 0.900; guitar 0.800; 80s 0.700; male vocalists 0.600; sad 0.200,,,,,,,,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",,,,,,,,,,,"), "{}", lines[2]);
        let json = to_json(&[tagged("1", "a.mp3", 1.0)]);
        assert!(json.contains("\"multi_label\": [\n      \"tags\"\n    ]"), "{json}");
    }

    #[test]
    fn json_round_trips() {
        let tracks = vec![sample("1", "a.mp3", "jazz", 1.0)];
        let back: Vec<TrackRecord> = serde_json::from_str(&to_json(&tracks)).unwrap();
        assert_eq!(back, tracks);
    }

    #[test]
    fn descriptors_are_exported_in_the_cli_columns() {
        let tracks = [described(sample("1", "a.mp3", "jazz", 1.0), Some(120.04), "C major", 0.5, 0.25)];
        let csv = to_csv(&tracks);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(
            lines[0].ends_with(
                ",tempo_bpm,key,loudness_lufs,loudness_range_lu,peak_dbfs,true_peak_dbtp,energy,danceability"
            ),
            "{}",
            lines[0]
        );
        assert!(lines[1].ends_with(",120.0,C major,-14.2,3.5,-1.23,,0.500,0.250"), "{}", lines[1]);
        let json: serde_json::Value = serde_json::from_str(&to_json(&tracks)).unwrap();
        let descriptors = &json[0]["report"]["descriptors"];
        assert_eq!(descriptors["key"], "C major");
        assert_eq!(descriptors["beats_s"].as_array().map(Vec::len), Some(4));
        assert_eq!(descriptors["true_peak_dbtp"], serde_json::Value::Null);
    }
}
