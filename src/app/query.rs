//! Library view logic: filter by label per task, by tempo range and by key or mode, search by
//! name, sort.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::record::TrackRecord;

/// How the library is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Newest first.
    #[default]
    Added,
    /// By file name.
    Name,
    /// Longest first.
    Duration,
    /// Slowest first (tracks without a tempo last).
    Tempo,
    /// Most energetic first (tracks without descriptors last).
    Energy,
    /// Most danceable first (tracks without descriptors last).
    Danceability,
}

impl SortKey {
    /// All keys with their names, for the sort menu.
    pub const ALL: [(SortKey, &'static str); 6] = [
        (SortKey::Added, "newest"),
        (SortKey::Name, "name"),
        (SortKey::Duration, "duration"),
        (SortKey::Tempo, "tempo"),
        (SortKey::Energy, "energy"),
        (SortKey::Danceability, "danceability"),
    ];

    /// The key named `name` (defaults to `Added`).
    pub fn from_name(name: &str) -> Self {
        Self::ALL.iter().find(|(_, n)| *n == name).map_or(SortKey::Added, |(k, _)| *k)
    }
}

/// What the library view shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// Case-insensitive part of the file name.
    pub search: String,
    /// Required label per task (tasks absent here are not filtered).
    pub labels: BTreeMap<String, String>,
    /// Slowest tempo shown, BPM (a track without a tempo fails any tempo bound).
    pub tempo_min: Option<f32>,
    /// Fastest tempo shown, BPM.
    pub tempo_max: Option<f32>,
    /// Required key: empty for any, `major` or `minor` for a mode, else one key (`C major`).
    pub key: String,
    /// Order.
    pub sort: SortKey,
}

impl Query {
    /// Whether `track` passes the search and the label filters.
    pub fn matches(&self, track: &TrackRecord) -> bool {
        let search = self.search.trim().to_lowercase();
        (search.is_empty() || track.name.to_lowercase().contains(&search))
            && self.labels.iter().all(|(task, label)| label.is_empty() || track.label(task) == Some(label.as_str()))
            && self.tempo_matches(track.tempo())
            && key_matches(&self.key, track.key())
    }

    /// Whether a tempo (`None`: unknown) is within the tempo bounds.
    fn tempo_matches(&self, tempo: Option<f32>) -> bool {
        match (self.tempo_min, self.tempo_max, tempo) {
            (None, None, _) => true,
            (_, _, None) => false,
            (min, max, Some(t)) => min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m),
        }
    }

    /// The matching tracks, in order.
    pub fn apply<'t>(&self, tracks: &'t [TrackRecord]) -> Vec<&'t TrackRecord> {
        let mut shown: Vec<&TrackRecord> = tracks.iter().filter(|t| self.matches(t)).collect();
        match self.sort {
            SortKey::Added => shown.sort_by(|a, b| b.added_ms.total_cmp(&a.added_ms)),
            SortKey::Name => shown.sort_by_key(|t| t.name.to_lowercase()),
            SortKey::Duration => shown.sort_by(|a, b| b.report.duration_s.total_cmp(&a.report.duration_s)),
            SortKey::Tempo => shown.sort_by(|a, b| unknown_last(a.tempo(), b.tempo())),
            // Highest first: ascending order of the negated scores.
            SortKey::Energy => shown
                .sort_by(|a, b| unknown_last(a.descriptors().map(|d| -d.energy), b.descriptors().map(|d| -d.energy))),
            SortKey::Danceability => shown.sort_by(|a, b| {
                unknown_last(a.descriptors().map(|d| -d.danceability), b.descriptors().map(|d| -d.danceability))
            }),
        }
        shown
    }
}

/// Ascending order of known values with unknown ones after them.
fn unknown_last(a: Option<f32>, b: Option<f32>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Whether a key (`None`: unknown) passes the key filter (see [`Query::key`]).
fn key_matches(filter: &str, key: Option<&str>) -> bool {
    match filter {
        "" => true,
        "major" | "minor" => key.is_some_and(|k| k.ends_with(&format!(" {filter}"))),
        exact => key == Some(exact),
    }
}

/// A tempo bound typed by the user: a positive number of BPM, else no bound.
pub fn tempo_bound(text: &str) -> Option<f32> {
    text.trim().replace(',', ".").parse::<f32>().ok().filter(|t| t.is_finite() && *t > 0.0)
}

/// The keys found over the library, in pitch order (C major, C minor, C# major…).
pub fn keys_in_use(tracks: &[TrackRecord]) -> Vec<String> {
    const TONICS: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    let order = |key: &str| {
        let (tonic, mode) = key.split_once(' ').unwrap_or((key, ""));
        (TONICS.iter().position(|t| *t == tonic).unwrap_or(TONICS.len()), mode.to_string(), key.to_string())
    };
    let keys: BTreeSet<_> = tracks.iter().filter_map(|t| t.key()).map(order).collect();
    keys.into_iter().map(|(_, _, key)| key).collect()
}

/// The labels that occur per task over the library (the filter menus' choices).
pub fn labels_in_use(tracks: &[TrackRecord]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for track in tracks {
        for (task, verdict) in &track.report.tasks {
            out.entry(task.clone()).or_default().insert(verdict.label.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::record::tests::{described, sample};
    use super::*;

    #[test]
    fn filters_search_and_sorts() {
        let mut long = sample("3", "Zebra.flac", "rock", 3.0);
        long.report.duration_s = 99.0;
        let tracks = vec![sample("1", "b-jazz.mp3", "jazz", 1.0), sample("2", "a-rock.mp3", "rock", 2.0), long];
        let names = |q: &Query| q.apply(&tracks).iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let mut q = Query::default();
        assert_eq!(names(&q), ["Zebra.flac", "a-rock.mp3", "b-jazz.mp3"]);
        q.sort = SortKey::Name;
        assert_eq!(names(&q), ["a-rock.mp3", "b-jazz.mp3", "Zebra.flac"]);
        q.labels.insert("genre".into(), "rock".into());
        assert_eq!(names(&q), ["a-rock.mp3", "Zebra.flac"]);
        q.search = " ZEB ".into();
        assert_eq!(names(&q), ["Zebra.flac"]);
        q.labels.insert("genre".into(), String::new());
        q.search.clear();
        q.sort = SortKey::from_name("duration");
        assert_eq!(names(&q)[0], "Zebra.flac");
        assert_eq!(labels_in_use(&tracks)["genre"].iter().collect::<Vec<_>>(), ["jazz", "rock"]);
    }

    #[test]
    fn filters_by_tempo_range_and_key_or_mode_and_sorts_by_descriptors() {
        let tracks = vec![
            described(sample("1", "slow.mp3", "jazz", 1.0), Some(70.0), "A minor", 0.2, 0.3),
            described(sample("2", "mid.mp3", "rock", 2.0), Some(120.0), "C major", 0.9, 0.8),
            described(sample("3", "fast.mp3", "rock", 3.0), Some(174.0), "F# minor", 0.6, 0.9),
            described(sample("4", "noise.mp3", "rock", 4.0), None, "", 0.1, 0.0),
            sample("5", "old.mp3", "rock", 5.0),
        ];
        let names = |q: &Query| q.apply(&tracks).iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let mut q = Query { tempo_min: tempo_bound(" 100 "), tempo_max: tempo_bound("140"), ..Query::default() };
        assert_eq!(names(&q), ["mid.mp3"]);
        q.tempo_max = tempo_bound("");
        assert_eq!(names(&q), ["fast.mp3", "mid.mp3"]);
        q.tempo_min = None;
        q.tempo_max = tempo_bound("119,5");
        assert_eq!(names(&q), ["slow.mp3"], "a track without a tempo fails a tempo bound");
        q.tempo_max = None;
        q.key = "minor".into();
        assert_eq!(names(&q), ["fast.mp3", "slow.mp3"]);
        q.key = "C major".into();
        assert_eq!(names(&q), ["mid.mp3"]);
        q.key.clear();
        q.sort = SortKey::from_name("tempo");
        assert_eq!(names(&q), ["slow.mp3", "mid.mp3", "fast.mp3", "noise.mp3", "old.mp3"]);
        q.sort = SortKey::from_name("energy");
        assert_eq!(names(&q)[..4], ["mid.mp3", "fast.mp3", "slow.mp3", "noise.mp3"]);
        q.sort = SortKey::from_name("danceability");
        assert_eq!(names(&q), ["fast.mp3", "mid.mp3", "slow.mp3", "noise.mp3", "old.mp3"]);
        assert_eq!(keys_in_use(&tracks), ["C major", "F# minor", "A minor"]);
        assert_eq!([tempo_bound("abc"), tempo_bound("-5"), tempo_bound("NaN")], [None, None, None]);
    }
}
