//! A classified track as the library keeps it, and its rows in the IndexedDB stores
//! (track, classification, segment prediction), following the entity diagram in README.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Descriptors, SegmentLabel, SegmentPrediction, TaskVerdict, TrackReport};
use serde::{Deserialize, Serialize};

/// Labels shown per task: the top 3 of a one-label task (their scores sum to at most 1)…
pub const TOP_LABELS: usize = 3;
/// …and the top 5 of a multi-label task (each tag scored on its own).
pub const TOP_TAGS: usize = 5;

/// One track in the library with everything the models said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackRecord {
    /// Unique key (time of classification plus a counter).
    pub id: String,
    /// File name as dropped.
    pub name: String,
    /// File size in bytes.
    pub size: f64,
    /// Lower-case file extension (`mp3`, `flac`…).
    pub format: String,
    /// When it was classified, in ms since the Unix epoch.
    pub added_ms: f64,
    /// Verdicts and timeline.
    pub report: TrackReport,
    /// The model (bundle name) that did each task.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// The tasks whose scores are independent tags (sigmoid) rather than one label's share.
    #[serde(default)]
    pub multi_label: BTreeSet<String>,
}

/// The `tracks` store row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackRow {
    pub id: String,
    pub name: String,
    pub size: f64,
    pub format: String,
    pub added_ms: f64,
    pub duration_s: f64,
    /// Tempo, beats, key, loudness, energy and danceability (absent in rows stored before the
    /// app computed them).
    #[serde(default)]
    pub descriptors: Option<Descriptors>,
}

/// The `classifications` store row: one task's verdict on one track (key `track/task`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRow {
    pub id: String,
    pub track_id: String,
    pub task: String,
    /// The model (bundle name) that gave the verdict.
    #[serde(default)]
    pub model: String,
    pub label: String,
    pub score: f32,
    pub scores: BTreeMap<String, f32>,
    /// The scores are independent tags (see [`TrackRecord::multi_label`]).
    #[serde(default)]
    pub multi_label: bool,
}

/// The `segments` store row: one task's label for one slice (key `track/task/index`); a
/// silent slice has one row with an empty task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    pub id: String,
    pub track_id: String,
    pub index: u32,
    pub task: String,
    pub start_s: f64,
    pub end_s: f64,
    pub silent: bool,
    pub label: String,
    pub score: f32,
}

/// Every row of one track.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackRows {
    pub tracks: Vec<TrackRow>,
    pub classifications: Vec<ClassificationRow>,
    pub segments: Vec<SegmentRow>,
}

impl TrackRecord {
    /// The ids of the earlier results for the same file in `library` (same name and size), which
    /// this one replaces: the library keeps one row per file, the latest.
    pub fn replaces(&self, library: &[TrackRecord]) -> Vec<String> {
        library
            .iter()
            .filter(|t| t.id != self.id && t.name == self.name && t.size == self.size)
            .map(|t| t.id.clone())
            .collect()
    }

    /// The track's rows for the three stores.
    pub fn to_rows(&self) -> TrackRows {
        let id = &self.id;
        let track = TrackRow {
            id: id.clone(),
            name: self.name.clone(),
            size: self.size,
            format: self.format.clone(),
            added_ms: self.added_ms,
            duration_s: self.report.duration_s,
            descriptors: self.report.descriptors.clone(),
        };
        let classifications = self
            .report
            .tasks
            .iter()
            .map(|(task, v)| ClassificationRow {
                id: format!("{id}/{task}"),
                track_id: id.clone(),
                task: task.clone(),
                model: self.models.get(task).cloned().unwrap_or_default(),
                label: v.label.clone(),
                score: v.score,
                scores: v.scores.clone(),
                multi_label: self.multi_label.contains(task),
            })
            .collect();
        let mut segments = Vec::new();
        for (index, s) in self.report.segments.iter().enumerate() {
            let row = |task: &str, label: &str, score: f32| SegmentRow {
                id: format!("{id}/{task}/{index:06}"),
                track_id: id.clone(),
                index: index as u32,
                task: task.to_string(),
                start_s: s.start_s,
                end_s: s.end_s,
                silent: s.silent,
                label: label.to_string(),
                score,
            };
            if s.tasks.is_empty() {
                segments.push(row("", "", 0.0));
            }
            segments.extend(s.tasks.iter().map(|(task, l)| row(task, &l.label, l.score)));
        }
        TrackRows { tracks: vec![track], classifications, segments }
    }

    /// Rebuilds the records from all rows of the stores (rows of unknown tracks are ignored),
    /// newest first.
    pub fn from_rows(rows: TrackRows) -> Vec<TrackRecord> {
        let mut records: BTreeMap<String, TrackRecord> = rows
            .tracks
            .into_iter()
            .map(|t| {
                let report = TrackReport {
                    duration_s: t.duration_s,
                    tasks: BTreeMap::new(),
                    segments: Vec::new(),
                    descriptors: t.descriptors,
                };
                let record = TrackRecord {
                    id: t.id.clone(),
                    name: t.name,
                    size: t.size,
                    format: t.format,
                    added_ms: t.added_ms,
                    report,
                    models: BTreeMap::new(),
                    multi_label: BTreeSet::new(),
                };
                (t.id, record)
            })
            .collect();
        for c in rows.classifications {
            if let Some(r) = records.get_mut(&c.track_id) {
                if !c.model.is_empty() {
                    r.models.insert(c.task.clone(), c.model);
                }
                if c.multi_label {
                    r.multi_label.insert(c.task.clone());
                }
                r.report.tasks.insert(c.task, TaskVerdict { label: c.label, score: c.score, scores: c.scores });
            }
        }
        let mut slices: BTreeMap<(String, u32), SegmentPrediction> = BTreeMap::new();
        for s in rows.segments {
            let slice = slices.entry((s.track_id, s.index)).or_insert_with(|| SegmentPrediction {
                start_s: s.start_s,
                end_s: s.end_s,
                silent: s.silent,
                tasks: BTreeMap::new(),
            });
            if !s.task.is_empty() {
                slice.tasks.insert(s.task, SegmentLabel { label: s.label, score: s.score });
            }
        }
        for ((track_id, _), slice) in slices {
            if let Some(r) = records.get_mut(&track_id) {
                r.report.segments.push(slice);
            }
        }
        let mut out: Vec<TrackRecord> = records.into_values().collect();
        out.sort_by(|a, b| b.added_ms.total_cmp(&a.added_ms).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// How many of `task`'s labels to show: [`TOP_TAGS`] for a multi-label task, else [`TOP_LABELS`].
    pub fn top_count(&self, task: &str) -> usize {
        if self.multi_label.contains(task) { TOP_TAGS } else { TOP_LABELS }
    }

    /// The label the track got for `task`, if that task ran on it.
    pub fn label(&self, task: &str) -> Option<&str> {
        self.report.tasks.get(task).map(|v| v.label.as_str())
    }

    /// The track's descriptors, if they were computed.
    pub fn descriptors(&self) -> Option<&Descriptors> {
        self.report.descriptors.as_ref()
    }

    /// Its tempo in BPM, if one was found.
    pub fn tempo(&self) -> Option<f32> {
        self.descriptors().and_then(|d| d.tempo_bpm)
    }

    /// Its key ("C major"), if one was found.
    pub fn key(&self) -> Option<&str> {
        self.descriptors().and_then(|d| d.key.as_deref())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record with a genre and mood verdict and a three-slice timeline (the middle one silent).
    pub fn sample(id: &str, name: &str, genre: &str, added_ms: f64) -> TrackRecord {
        let verdict = |label: &str, other: &str| TaskVerdict {
            label: label.into(),
            score: 0.75,
            scores: [(label.to_string(), 0.75), (other.to_string(), 0.25)].into_iter().collect(),
        };
        let slice = |start: f64, silent: bool| SegmentPrediction {
            start_s: start,
            end_s: start + 5.0,
            silent,
            tasks: if silent {
                BTreeMap::new()
            } else {
                [
                    ("genre".to_string(), SegmentLabel { label: genre.into(), score: 0.5 }),
                    ("mood".to_string(), SegmentLabel { label: "calm".into(), score: 0.625 }),
                ]
                .into_iter()
                .collect()
            },
        };
        TrackRecord {
            id: id.into(),
            name: name.into(),
            size: 1234.0,
            format: "mp3".into(),
            added_ms,
            report: TrackReport {
                duration_s: 15.0,
                tasks: [("genre".to_string(), verdict(genre, "zzz")), ("mood".to_string(), verdict("calm", "angry"))]
                    .into_iter()
                    .collect(),
                segments: vec![slice(0.0, false), slice(5.0, true), slice(10.0, false)],
                descriptors: None,
            },
            models: [("genre".to_string(), "genre".to_string()), ("mood".to_string(), "my mood".to_string())]
                .into_iter()
                .collect(),
            multi_label: BTreeSet::new(),
        }
    }

    /// `record` with descriptors: `tempo` BPM (or none), `key`, energy and danceability.
    pub fn described(
        mut record: TrackRecord,
        tempo: Option<f32>,
        key: &str,
        energy: f32,
        danceability: f32,
    ) -> TrackRecord {
        record.report.descriptors = Some(Descriptors {
            tempo_bpm: tempo,
            beats_s: tempo.map_or_else(Vec::new, |t| (0..4).map(|i| i as f32 * 60.0 / t).collect()),
            key: (!key.is_empty()).then(|| key.to_string()),
            key_strength: Some(0.8),
            loudness_lufs: Some(-14.25),
            loudness_range_lu: Some(3.5),
            peak_dbfs: Some(-1.234),
            true_peak_dbtp: None,
            energy,
            danceability,
        });
        record
    }

    /// [`sample`] with a multi-label `tags` task of seven tags (four of them above one half).
    pub fn tagged(id: &str, name: &str, added_ms: f64) -> TrackRecord {
        let mut record = sample(id, name, "jazz", added_ms);
        let scores: BTreeMap<String, f32> = [
            ("rock", 0.9),
            ("guitar", 0.8),
            ("80s", 0.7),
            ("male vocalists", 0.6),
            ("sad", 0.2),
            ("jazz", 0.1),
            ("pop", 0.05),
        ]
        .into_iter()
        .map(|(l, s)| (l.to_string(), s))
        .collect();
        record.report.tasks.insert("tags".into(), TaskVerdict { label: "rock".into(), score: 0.9, scores });
        record.models.insert("tags".into(), "tags".into());
        record.multi_label.insert("tags".into());
        record
    }

    #[test]
    fn a_file_classified_again_replaces_only_its_own_earlier_results() {
        let library = vec![
            sample("1", "song.mp3", "rock", 1.0),
            sample("2", "other.mp3", "rock", 2.0),
            sample("3", "song.mp3", "jazz", 3.0),
            TrackRecord { size: 999.0, ..sample("4", "song.mp3", "rock", 4.0) },
        ];
        let again = sample("5", "song.mp3", "pop", 5.0);
        assert_eq!(again.replaces(&library), vec!["1".to_string(), "3".to_string()]);
        assert!(library[1].replaces(&library).is_empty(), "a record never replaces itself");
    }

    #[test]
    fn rows_round_trip_to_the_same_records_newest_first() {
        let a = sample("1", "a.mp3", "jazz", 1.0);
        let b = sample("2", "b.mp3", "rock", 2.0);
        let mut rows = a.to_rows();
        let rb = b.to_rows();
        assert_eq!(rows.classifications.len(), 2);
        // 2 tasks × 2 classified slices + 1 row for the silent slice.
        assert_eq!(rows.segments.len(), 5);
        rows.tracks.extend(rb.tracks);
        rows.classifications.extend(rb.classifications);
        rows.segments.extend(rb.segments);
        // Rows of a deleted track are ignored.
        rows.segments.push(SegmentRow { track_id: "gone".into(), ..rows.segments[0].clone() });
        assert_eq!(TrackRecord::from_rows(rows), vec![b, a]);
    }

    #[test]
    fn descriptors_are_kept_and_rows_stored_without_them_still_load() {
        let record = described(sample("1", "a.mp3", "jazz", 1.0), Some(120.0), "C major", 0.5, 0.25);
        let rows = record.to_rows();
        assert_eq!(rows.tracks[0].descriptors.as_ref().map(|d| d.beats_s.len()), Some(4));
        assert_eq!(TrackRecord::from_rows(rows), vec![record.clone()]);
        assert_eq!((record.tempo(), record.key()), (Some(120.0), Some("C major")));
        // A row written before descriptors existed.
        let old: TrackRow = serde_json::from_str(
            r#"{"id": "1", "name": "a.mp3", "size": 1, "format": "mp3", "added_ms": 1, "duration_s": 15}"#,
        )
        .unwrap();
        assert_eq!(old.descriptors, None);
        let rows = TrackRows { tracks: vec![old], ..Default::default() };
        let back = TrackRecord::from_rows(rows);
        assert_eq!((back[0].tempo(), back[0].key(), back[0].descriptors()), (None, None, None));
    }

    #[test]
    fn a_multi_label_task_is_kept_as_such_and_shows_five_tags() {
        let record = tagged("1", "a.mp3", 1.0);
        let rows = record.to_rows();
        let tags: Vec<bool> = rows.classifications.iter().map(|c| c.multi_label).collect();
        assert_eq!(tags, vec![false, false, true], "genre, mood, tags");
        assert_eq!(TrackRecord::from_rows(rows), vec![record.clone()]);
        assert_eq!((record.top_count("tags"), record.top_count("genre")), (TOP_TAGS, TOP_LABELS));
    }
}
