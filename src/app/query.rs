//! Library view logic: filter by label per task, search by name, sort.

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
}

impl SortKey {
    /// All keys with their names, for the sort menu.
    pub const ALL: [(SortKey, &'static str); 3] =
        [(SortKey::Added, "newest"), (SortKey::Name, "name"), (SortKey::Duration, "duration")];

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
    /// Order.
    pub sort: SortKey,
}

impl Query {
    /// Whether `track` passes the search and the label filters.
    pub fn matches(&self, track: &TrackRecord) -> bool {
        let search = self.search.trim().to_lowercase();
        (search.is_empty() || track.name.to_lowercase().contains(&search))
            && self.labels.iter().all(|(task, label)| label.is_empty() || track.label(task) == Some(label.as_str()))
    }

    /// The matching tracks, in order.
    pub fn apply<'t>(&self, tracks: &'t [TrackRecord]) -> Vec<&'t TrackRecord> {
        let mut shown: Vec<&TrackRecord> = tracks.iter().filter(|t| self.matches(t)).collect();
        match self.sort {
            SortKey::Added => shown.sort_by(|a, b| b.added_ms.total_cmp(&a.added_ms)),
            SortKey::Name => shown.sort_by_key(|t| t.name.to_lowercase()),
            SortKey::Duration => shown.sort_by(|a, b| b.report.duration_s.total_cmp(&a.report.duration_s)),
        }
        shown
    }
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
    use super::super::record::tests::sample;
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
}
