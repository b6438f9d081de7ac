//! One track analysed by several workers at once: which segments each [`Share`] classifies, and
//! how the shares' reports merge into the report of the whole track.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::{OnlySilence, SegmentPrediction, TaskVerdict, TrackReport, segment_key};

/// Share `index` of `count` of a track: some segments of every feature configuration, interleaved
/// so each share covers the whole track. The first share, which also measures the descriptors (in
/// the browser about 0.5 s for a 3-minute track, against 1.4 s for all its musicnn segments),
/// classifies 1 segment in every cycle where each other share classifies 3: with two workers, 25%
/// and 75% of the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Which share, from 0.
    pub index: u32,
    /// How many shares the track is cut into (at least 1).
    pub count: u32,
}

impl Default for Share {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Share {
    /// The whole track.
    pub const WHOLE: Share = Share { index: 0, count: 1 };

    /// Whether this share classifies the `segment`th segment (counted from 0, silent ones included).
    pub fn includes(&self, segment: usize) -> bool {
        if self.count <= 1 {
            return true;
        }
        let cycle = 3 * self.count as usize - 2;
        let place = segment % cycle;
        let owner = if place < 1 { 0 } else { 1 + (place - 1) / 3 };
        owner == self.index as usize
    }

    /// Whether this is the whole track.
    pub fn is_whole(&self) -> bool {
        self.count <= 1
    }
}

/// The report of the whole track from the reports of all its shares: the timeline is their
/// segments in order, each task's verdict the mean over all segments (each share's mean weighted
/// by the segments it classified), the descriptors those of the share that computed them.
pub fn merge(parts: Vec<TrackReport>) -> Result<TrackReport, OnlySilence> {
    let duration_s = parts.iter().map(|p| p.duration_s).fold(0.0, f64::max);
    // Per task: labels in order, weighted sums, segments.
    let mut sums: BTreeMap<String, (Vec<String>, Vec<f64>, usize)> = BTreeMap::new();
    let mut segments: BTreeMap<(u64, u64), SegmentPrediction> = BTreeMap::new();
    let mut descriptors = None;
    for part in parts {
        for (task, verdict) in &part.tasks {
            let weight = part.segments.iter().filter(|s| s.tasks.contains_key(task)).count();
            let entry = sums
                .entry(task.clone())
                .or_insert_with(|| (verdict.scores.keys().cloned().collect(), vec![0.0; verdict.scores.len()], 0));
            for (label, sum) in entry.0.iter().zip(entry.1.iter_mut()) {
                *sum += verdict.scores.get(label).copied().unwrap_or(0.0) as f64 * weight as f64;
            }
            entry.2 += weight;
        }
        for segment in part.segments {
            let key = segment_key(segment.start_s, segment.end_s);
            match segments.get_mut(&key) {
                Some(known) => known.tasks.extend(segment.tasks),
                None => {
                    segments.insert(key, segment);
                }
            }
        }
        descriptors = descriptors.or(part.descriptors);
    }
    let tasks: BTreeMap<String, TaskVerdict> = sums
        .into_iter()
        .filter(|(_, (_, _, count))| *count > 0)
        .map(|(task, (labels, sums, count))| {
            let means: Vec<f32> = sums.iter().map(|s| (s / count as f64) as f32).collect();
            (task, TaskVerdict::from_means(&labels, &means))
        })
        .collect();
    if tasks.is_empty() {
        return Err(OnlySilence { seconds: duration_s });
    }
    Ok(TrackReport { duration_s, tasks, segments: segments.into_values().collect(), descriptors })
}

/// The picture of the whole track from the shares' pictures (`rows` rows each, row-major, of
/// their own widths): each share painted only its segments, the rest of its picture is 0, so the
/// brightest pixel wins. Returns the number of columns and the pixels.
pub fn merge_pictures(rows: usize, parts: &[(usize, &[u8])]) -> (usize, Vec<u8>) {
    let columns = parts.iter().map(|(c, _)| *c).max().unwrap_or(0);
    let mut pixels = vec![0u8; rows * columns];
    for &(width, part) in parts {
        for (r, row) in part.chunks_exact(width.max(1)).take(rows).enumerate() {
            for (out, &v) in pixels[r * columns..r * columns + width].iter_mut().zip(row) {
                *out = (*out).max(v);
            }
        }
    }
    (columns, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SegmentLabel;

    fn segment(start_s: f64, label: Option<(&str, f32)>) -> SegmentPrediction {
        SegmentPrediction {
            start_s,
            end_s: start_s + 3.0,
            silent: label.is_none(),
            tasks: label
                .map(|(l, s)| ("genre".to_string(), SegmentLabel { label: l.into(), score: s }))
                .into_iter()
                .collect(),
        }
    }

    fn part(segments: Vec<SegmentPrediction>, means: &[f32]) -> TrackReport {
        let labels = ["jazz".to_string(), "rock".to_string()];
        let tasks = if means.is_empty() {
            BTreeMap::new()
        } else {
            [("genre".to_string(), TaskVerdict::from_means(&labels, means))].into_iter().collect()
        };
        TrackReport { duration_s: 9.5, tasks, segments, descriptors: None }
    }

    #[test]
    fn shares_interleave_and_cover_every_segment_once() {
        let shares = [Share { index: 0, count: 3 }, Share { index: 1, count: 3 }, Share { index: 2, count: 3 }];
        for segment in 0..30 {
            assert_eq!(shares.iter().filter(|s| s.includes(segment)).count(), 1, "{segment}");
        }
        assert!((0..30).all(|s| Share::WHOLE.includes(s)));
        // Two shares: the first (which also measures the descriptors) takes 1 segment in 4.
        let first = Share { index: 0, count: 2 };
        let taken: Vec<usize> = (0..10).filter(|&s| first.includes(s)).collect();
        assert_eq!(taken, [0, 4, 8]);
        assert!((0..10).all(|s| first.includes(s) != Share { index: 1, count: 2 }.includes(s)));
        assert_eq!(Share::default(), Share::WHOLE);
    }

    #[test]
    fn verdicts_are_means_weighted_by_the_segments_each_share_classified() {
        // Share 0: two segments (jazz 0.9, jazz 0.7: mean 0.8); share 1: one (rock 0.9) and a silent one.
        let a = part(vec![segment(0.0, Some(("jazz", 0.9))), segment(6.0, Some(("jazz", 0.7)))], &[0.8, 0.2]);
        let b = part(vec![segment(3.0, Some(("rock", 0.9))), segment(9.0, None)], &[0.1, 0.9]);
        let merged = merge(vec![b, a]).unwrap();
        let genre = &merged.tasks["genre"];
        assert_eq!(genre.label, "jazz");
        assert!((genre.scores["jazz"] - (0.8 * 2.0 + 0.1) / 3.0).abs() < 1e-6);
        assert!((genre.scores["rock"] - (0.2 * 2.0 + 0.9) / 3.0).abs() < 1e-6);
        let starts: Vec<f64> = merged.segments.iter().map(|s| s.start_s).collect();
        assert_eq!(starts, [0.0, 3.0, 6.0, 9.0]);
        assert_eq!(merged.duration_s, 9.5);
    }

    #[test]
    fn pictures_merge_pixel_by_pixel_whatever_their_widths() {
        // 2 rows: share 0 painted columns 0 and 2 of 3; share 1 column 1 of 2.
        let a = [10, 0, 30, 11, 0, 31];
        let b = [0, 20, 0, 21];
        let (columns, pixels) = merge_pictures(2, &[(3, &a), (2, &b)]);
        assert_eq!(columns, 3);
        assert_eq!(pixels, [10, 20, 30, 11, 21, 31]);
        assert_eq!(merge_pictures(2, &[]), (0, Vec::new()));
        assert_eq!(merge_pictures(2, &[(0, &[])]), (0, Vec::new()));
    }

    #[test]
    fn a_share_with_nothing_to_classify_adds_nothing_and_all_silent_is_an_error() {
        let a = part(vec![segment(0.0, Some(("rock", 0.6)))], &[0.4, 0.6]);
        let empty = part(vec![segment(3.0, None)], &[]);
        let merged = merge(vec![a, empty.clone()]).unwrap();
        assert_eq!(merged.tasks["genre"].label, "rock");
        assert_eq!(merged.segments.len(), 2);
        assert!(matches!(merge(vec![empty.clone(), empty]), Err(OnlySilence { .. })));
    }
}
