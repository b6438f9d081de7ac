//! What Musicat says about a track: per-task verdicts and the per-segment timeline.
//! These serde types are shared by the CLI, the browser app and the tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The verdict of one task over the whole track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskVerdict {
    /// The most probable label.
    pub label: String,
    /// Its mean probability over the non-silent segments.
    pub score: f32,
    /// Mean probability of every label.
    pub scores: BTreeMap<String, f32>,
}

impl TaskVerdict {
    /// Builds the verdict from labels and their mean probabilities.
    pub fn from_means(labels: &[String], means: &[f32]) -> Self {
        let best = means.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
        Self {
            label: labels[best].clone(),
            score: means[best],
            scores: labels.iter().cloned().zip(means.iter().copied()).collect(),
        }
    }

    /// The `k` most probable labels, best first.
    pub fn top(&self, k: usize) -> Vec<(&str, f32)> {
        let mut all: Vec<(&str, f32)> = self.scores.iter().map(|(l, s)| (l.as_str(), *s)).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(k);
        all
    }
}

/// The best label of one task on one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentLabel {
    /// The segment's most probable label.
    pub label: String,
    /// Its probability.
    pub score: f32,
}

/// One slice of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPrediction {
    /// Start, in seconds from the start of the track.
    pub start_s: f64,
    /// End of the real audio in the segment, in seconds.
    pub end_s: f64,
    /// Digital silence: not classified, left out of the verdicts.
    pub silent: bool,
    /// Best label per task (empty for silent segments).
    pub tasks: BTreeMap<String, SegmentLabel>,
}

/// Everything known about one track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackReport {
    /// Decoded duration in seconds.
    pub duration_s: f64,
    /// Verdict per task.
    pub tasks: BTreeMap<String, TaskVerdict>,
    /// The timeline, in order.
    pub segments: Vec<SegmentPrediction>,
    /// Tempo, key, loudness, energy and danceability (when the analyzer computes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptors: Option<Descriptors>,
}

/// Musical descriptors of a whole track, computed with DSP beside the models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptors {
    /// Tempo in beats per minute (`None`: no pulse found).
    pub tempo_bpm: Option<f32>,
    /// Beat times in seconds (left out of compact outputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beats_s: Vec<f32>,
    /// Key and mode, e.g. "A minor" (`None`: no pitched content).
    pub key: Option<String>,
    /// Correlation of the track's chroma with the key's profile (−1 to 1).
    pub key_strength: Option<f32>,
    /// Integrated loudness per EBU R128, LUFS.
    pub loudness_lufs: Option<f32>,
    /// Loudness range per EBU Tech 3342, LU (the dynamic range of the track).
    pub loudness_range_lu: Option<f32>,
    /// Sample peak, dBFS.
    pub peak_dbfs: Option<f32>,
    /// True (inter-sample) peak, dBTP.
    pub true_peak_dbtp: Option<f32>,
    /// Energy, 0–1 (loudness and onset activity).
    pub energy: f32,
    /// Danceability, 0–1 (pulse clarity, beat strength, tempo).
    pub danceability: f32,
}

impl Descriptors {
    /// CSV column names of the descriptors, in order (the CLI's and the app's CSV share them).
    pub const CSV_COLUMNS: [&'static str; 8] = [
        "tempo_bpm",
        "key",
        "loudness_lufs",
        "loudness_range_lu",
        "peak_dbfs",
        "true_peak_dbtp",
        "energy",
        "danceability",
    ];

    /// The CSV cells of a track's descriptors in [`Self::CSV_COLUMNS`] order (empty where
    /// unknown, all empty when they were not computed).
    pub fn csv_cells(descriptors: Option<&Self>) -> Vec<String> {
        let Some(d) = descriptors else { return vec![String::new(); Self::CSV_COLUMNS.len()] };
        let number = |v: Option<f32>, digits: usize| v.map(|v| format!("{v:.digits$}")).unwrap_or_default();
        vec![
            number(d.tempo_bpm, 1),
            d.key.clone().unwrap_or_default(),
            number(d.loudness_lufs, 1),
            number(d.loudness_range_lu, 1),
            number(d.peak_dbfs, 2),
            number(d.true_peak_dbtp, 2),
            format!("{:.3}", d.energy),
            format!("{:.3}", d.danceability),
        ]
    }
}

/// The timeline's key for a segment from `start_s` to `end_s`: whole milliseconds, so the
/// same slice seen by several tasks (or shares) is one entry, in time order.
pub fn segment_key(start_s: f64, end_s: f64) -> (u64, u64) {
    ((start_s * 1000.0).round() as u64, (end_s * 1000.0).round() as u64)
}

/// A track of nothing but digital silence: no segment to classify.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("the file contains only digital silence ({seconds:.1} s); there is nothing to classify")]
pub struct OnlySilence {
    /// Its duration.
    pub seconds: f64,
}

/// Running mean of segment probabilities for one task.
#[derive(Debug, Clone)]
pub struct ProbabilityMean {
    sums: Vec<f64>,
    count: usize,
}

impl ProbabilityMean {
    /// A mean over `labels` probabilities, empty so far.
    pub fn new(labels: usize) -> Self {
        Self { sums: vec![0.0; labels], count: 0 }
    }

    /// Adds one segment's probabilities.
    pub fn add(&mut self, probabilities: &[f32]) {
        self.sums.iter_mut().zip(probabilities).for_each(|(s, &p)| *s += p as f64);
        self.count += 1;
    }

    /// The mean, or `None` when no segment was added.
    pub fn mean(&self) -> Option<Vec<f32>> {
        (self.count > 0).then(|| self.sums.iter().map(|s| (s / self.count as f64) as f32).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_is_the_argmax_of_the_mean() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut mean = ProbabilityMean::new(3);
        mean.add(&[0.6, 0.3, 0.1]);
        mean.add(&[0.0, 0.8, 0.2]);
        let v = TaskVerdict::from_means(&labels, &mean.mean().unwrap());
        assert_eq!(v.label, "b");
        assert!((v.score - 0.55).abs() < 1e-6);
        assert_eq!(v.top(2), vec![("b", 0.55), ("a", 0.3)]);
        assert!(ProbabilityMean::new(2).mean().is_none());
    }
}
