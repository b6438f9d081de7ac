//! One track analysed by several workers at once: which segments each [`Share`] classifies
//! (the leader's [`Dispatch`], the followers' [`Assigned`]), and how the shares' reports merge
//! into the report of the whole track.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::report::{OnlySilence, SegmentPrediction, TaskVerdict, TrackReport, segment_key};

/// Share `index` of `count` of a track analysed by several workers at once. Share 0 (the
/// leader) decodes the file, measures the descriptors and relays the decoded samples to the
/// other shares (the followers); as the samples where segments start are relayed, its
/// [`Dispatch`] gives each segment to a follower or keeps it, in the proportion that balances
/// the costs measured so far, whatever the file's format and the models (a fixed split let one
/// worker finish up to 0.3 s before the other on a 3-minute track).
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
}

/// Segment `segment` (its place in the track from 0, silent ones included) of feature
/// configuration `group` (see [`crate::Analyzer::with_segments`]) goes to follower `share`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Assignment {
    /// The feature configuration.
    pub group: u32,
    /// The segment.
    pub segment: u32,
    /// The follower's share index (1 or more).
    pub share: u32,
}

/// The leader's side: who classifies each segment, decided for every segment that starts within
/// the samples relayed so far (a follower cuts a segment only once it has its end, so it always
/// knows in time). The leader keeps the fraction of segments that makes it spend as long as each
/// follower, from the costs measured so far on this track: it also decodes the file and measures
/// the descriptors, which cost more for an MP3 than for a WAV, and more with some models than
/// others.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// Per feature configuration: seconds between segment starts, and the next segment to decide.
    hops_s: Vec<f64>,
    next: Vec<usize>,
    /// Per follower (share 1, 2…): segments given to it.
    given: Vec<u32>,
    /// Segments given to a follower, by configuration and segment.
    to_followers: HashSet<(u32, u32)>,
    /// Segments the leader kept.
    kept: u32,
    /// The fraction of segments the leader keeps.
    fraction: f64,
    /// Decided since the last [`Dispatch::take_assigned`].
    assigned: Vec<Assignment>,
}

/// What a track has cost so far, to balance the work (milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    /// The leader's decoding, resampling (for every share) and descriptors.
    pub leader_fixed_ms: f64,
    /// Inference, by the leader and the followers together.
    pub inference_ms: f64,
    /// Segments that inference classified.
    pub inferred: u32,
}

impl Dispatch {
    /// The fraction of segments the leader keeps before any cost is known.
    pub const FIRST_FRACTION: f64 = 0.25;

    /// A dispatch over `followers` followers, for feature configurations whose segments start
    /// every `hops_s` seconds ([`crate::Analyzer::segment_hops_s`]).
    pub fn new(followers: usize, hops_s: Vec<f64>) -> Self {
        Self {
            next: vec![0; hops_s.len()],
            hops_s,
            given: vec![0; followers],
            to_followers: HashSet::new(),
            kept: 0,
            fraction: Self::FIRST_FRACTION,
            assigned: Vec::new(),
        }
    }

    /// The fraction of segments the leader keeps.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// Sets the fraction the leader keeps so that, at the costs so far, it and every follower
    /// spend the same time on the segments decided so far: with `n` segments of `t` ms each,
    /// `k` followers and the leader's fixed cost `F`, `F + f·n·t = (1 − f)·n·t / k`.
    pub fn balance(&mut self, costs: Costs) {
        let decided = self.kept + self.given.iter().sum::<u32>();
        let followers = self.given.len() as f64;
        if costs.inferred == 0 || decided == 0 || followers == 0.0 {
            return;
        }
        let all = decided as f64 * costs.inference_ms / costs.inferred as f64;
        let fraction = (all / followers - costs.leader_fixed_ms) / (all * (1.0 + 1.0 / followers));
        self.fraction = fraction.clamp(0.0, 1.0);
    }

    /// Decides every segment that starts before `seconds`: the leader keeps its fraction, the
    /// follower given the fewest so far gets each other one.
    pub fn decide_until(&mut self, seconds: f64) {
        for (group, (&hop_s, next)) in self.hops_s.iter().zip(&mut self.next).enumerate() {
            while hop_s > 0.0 && (*next as f64) * hop_s < seconds {
                let decided = self.kept + self.given.iter().sum::<u32>();
                let keep = (self.kept as f64) < self.fraction * (decided + 1) as f64;
                match self.given.iter().enumerate().min_by_key(|(_, g)| **g) {
                    Some((follower, _)) if !keep => {
                        self.given[follower] += 1;
                        let assignment =
                            Assignment { group: group as u32, segment: *next as u32, share: follower as u32 + 1 };
                        self.to_followers.insert((assignment.group, assignment.segment));
                        self.assigned.push(assignment);
                    }
                    _ => self.kept += 1,
                }
                *next += 1;
            }
        }
    }

    /// Whether the leader classifies segment `segment` of configuration `group` (every segment
    /// not given to a follower, including any never decided).
    pub fn leader_takes(&self, group: usize, segment: usize) -> bool {
        !self.to_followers.contains(&(group as u32, segment as u32))
    }

    /// The assignments decided since the last call, for the followers.
    pub fn take_assigned(&mut self) -> Vec<Assignment> {
        std::mem::take(&mut self.assigned)
    }
}

/// A follower's side: the segments the leader gave it.
#[derive(Debug, Clone, Default)]
pub struct Assigned {
    mine: HashSet<(u32, u32)>,
}

impl Assigned {
    /// Takes note of the leader's assignments to share `share`.
    pub fn add(&mut self, share: u32, assignments: &[Assignment]) {
        let mine = assignments.iter().filter(|a| a.share == share).map(|a| (a.group, a.segment));
        self.mine.extend(mine);
    }

    /// Whether segment `segment` of feature configuration `group` is this follower's.
    pub fn includes(&self, group: usize, segment: usize) -> bool {
        self.mine.contains(&(group as u32, segment as u32))
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
    fn the_leader_keeps_its_fraction_of_the_segments_started_and_gives_the_rest() {
        // Two configurations: segments every 3 s and every 5 s.
        let mut dispatch = Dispatch::new(1, vec![3.0, 5.0]);
        assert_eq!(dispatch.fraction(), Dispatch::FIRST_FRACTION);
        dispatch.decide_until(0.5);
        // Segment 0 of each starts at 0 s: the first kept, the second given.
        assert_eq!(dispatch.take_assigned(), [Assignment { group: 1, segment: 0, share: 1 }]);
        assert!(dispatch.leader_takes(0, 0) && !dispatch.leader_takes(1, 0));
        dispatch.decide_until(21.5);
        // 3-s segments 1–7 (3 … 21 s) and 5-s segments 1–4 (5 … 20 s): 11 more, 13 in all.
        let given = dispatch.take_assigned();
        let kept = (0..8).filter(|&k| dispatch.leader_takes(0, k)).count()
            + (0..5).filter(|&k| dispatch.leader_takes(1, k)).count();
        assert_eq!((kept, given.len() + 1), (4, 9));
        assert!(given.iter().all(|a| a.share == 1 && !dispatch.leader_takes(a.group as usize, a.segment as usize)));
        // Segments never decided (past the relayed samples) are the leader's.
        assert!(dispatch.leader_takes(0, 8) && dispatch.take_assigned().is_empty());
        assert_eq!(Share::default(), Share::WHOLE);
    }

    #[test]
    fn the_fraction_balances_the_time_each_side_spends() {
        // 10 segments of 20 ms; the leader's own work 50 ms: 50 + f·200 = (1 − f)·200 gives
        // f = 0.375.
        let mut dispatch = Dispatch::new(1, vec![1.0]);
        dispatch.decide_until(10.0);
        let costs = Costs { leader_fixed_ms: 50.0, inference_ms: 60.0, inferred: 3 };
        dispatch.balance(costs);
        assert!((dispatch.fraction() - 0.375).abs() < 1e-9, "{}", dispatch.fraction());
        // Work the leader alone would take longer than all the segments: it keeps none.
        dispatch.balance(Costs { leader_fixed_ms: 1000.0, ..costs });
        assert_eq!(dispatch.fraction(), 0.0);
        dispatch.decide_until(11.0);
        assert!(!dispatch.leader_takes(0, 10));
        // Two followers: 50 + f·200 = (1 − f)·100 gives f = 1/6.
        let mut two = Dispatch::new(2, vec![1.0]);
        two.decide_until(10.0);
        two.balance(costs);
        assert!((two.fraction() - 1.0 / 6.0).abs() < 1e-9, "{}", two.fraction());
        // Nothing measured yet: unchanged.
        let mut fresh = Dispatch::new(1, vec![1.0]);
        fresh.balance(Costs::default());
        assert_eq!(fresh.fraction(), Dispatch::FIRST_FRACTION);
    }

    #[test]
    fn the_follower_given_the_fewest_gets_the_segment_and_only_it_includes_it() {
        let mut dispatch = Dispatch::new(2, vec![3.0]);
        dispatch.decide_until(1.0);
        dispatch.balance(Costs { leader_fixed_ms: 1e9, inference_ms: 1.0, inferred: 1 });
        dispatch.decide_until(7.0);
        let assigned = dispatch.take_assigned();
        // The first segment was kept before any cost was known.
        assert!(dispatch.leader_takes(0, 0));
        assert_eq!(
            assigned,
            [Assignment { group: 0, segment: 1, share: 1 }, Assignment { group: 0, segment: 2, share: 2 }]
        );
        let (mut first, mut second) = (Assigned::default(), Assigned::default());
        first.add(1, &assigned);
        second.add(2, &assigned);
        assert!(first.includes(0, 1) && !first.includes(0, 2));
        assert!(second.includes(0, 2) && !second.includes(0, 1) && !second.includes(1, 2));
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
