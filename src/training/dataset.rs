//! Training datasets: the four shipped tasks built from `manifest.csv`, or a user's labelled
//! folders; each example carries the group (artist, song, fold) that decides its split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::features::FeatureParams;

/// One audio file with its label and split.
#[derive(Debug, Clone)]
pub struct Example {
    /// The audio file.
    pub path: PathBuf,
    /// Index into [`Dataset::labels`].
    pub label: usize,
    /// Artist, song or fold: examples of one group are never split apart.
    pub group: String,
    /// Whether the example is held out for validation.
    pub validation: bool,
}

/// A labelled set of examples with its split and feature parameters.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Task name (bundle name).
    pub task: String,
    /// Label names.
    pub labels: Vec<String>,
    /// All examples.
    pub examples: Vec<Example>,
    /// Feature parameters the model will use.
    pub features: FeatureParams,
    /// How the validation split was made.
    pub split_rule: String,
    /// Merges and drops applied to the labels.
    pub notes: Vec<String>,
    /// Extra per-label information for the sidecar (e.g. mood quadrants).
    pub label_details: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Row {
    path: String,
    dataset: String,
    label: String,
    genre: String,
    artist: String,
    source_path: String,
}

/// Fraction of groups held out, as 1 in `HOLDOUT`.
const HOLDOUT: u64 = 5;

/// The shipped tasks.
pub const TASKS: [&str; 4] = ["genre", "mood", "style", "sounds"];

/// Builds a shipped task from `<data>/manifest.csv`.
pub fn from_manifest(data: &Path, task: &str) -> Result<Dataset, String> {
    let manifest = data.join("manifest.csv");
    let mut reader =
        csv::Reader::from_path(&manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let rows: Vec<Row> =
        reader.deserialize().collect::<Result<_, _>>().map_err(|e| format!("{}: {e}", manifest.display()))?;
    let music = FeatureParams { fmax: 10_000.0, ..FeatureParams::default() };
    let (entries, features, split_rule, notes, details): (Vec<(String, &Row, String, bool)>, _, _, _, _) = match task {
        "genre" => (
            rows.iter()
                .filter(|r| !r.genre.is_empty())
                .map(|r| {
                    let label =
                        if r.genre == "rock" || r.genre == "rock_pop" { "pop_rock".into() } else { r.genre.clone() };
                    let (group, validation) = genre_group(r);
                    (label, r, group, validation)
                })
                .collect(),
            music.clone(),
            "GTZAN by index block (indices 60-79 of each genre held out, as its artists are contiguous); \
             4Q by artist (1 artist in 5, by a fixed hash)"
                .to_string(),
            vec!["GTZAN `rock` and 4Q `rock_pop` merged into `pop_rock`".to_string()],
            serde_json::Value::Null,
        ),
        "mood" => (
            rows.iter()
                .filter(|r| r.dataset == "4q")
                .map(|r| {
                    let label = match r.label.as_str() {
                        "Q1" => "happy",
                        "Q2" => "tense",
                        "Q3" => "sad",
                        _ => "calm",
                    };
                    (label.to_string(), r, artist_group(r), held_out(&artist_group(r)))
                })
                .collect(),
            music.clone(),
            "4Q by artist (1 artist in 5, by a fixed hash)".to_string(),
            vec!["4Q quadrants shown as happy (Q1), tense (Q2), sad (Q3), calm (Q4)".to_string()],
            serde_json::json!({
                "happy": {"quadrant": "Q1", "valence": "+", "arousal": "+"},
                "tense": {"quadrant": "Q2", "valence": "-", "arousal": "+"},
                "sad": {"quadrant": "Q3", "valence": "-", "arousal": "-"},
                "calm": {"quadrant": "Q4", "valence": "+", "arousal": "-"}
            }),
        ),
        "style" => {
            let mut notes = vec![];
            let entries = rows
                .iter()
                .filter(|r| r.dataset == "ballroom")
                .filter_map(|r| {
                    let label = dance_family(&r.label)?;
                    let song = Path::new(&r.source_path)
                        .file_stem()
                        .map(|s| s.to_string_lossy().to_lowercase())
                        .unwrap_or_default();
                    let group = format!("song:{song}");
                    Some((label.to_string(), r, group.clone(), held_out(&group)))
                })
                .collect();
            notes.push("merged: waltz + viennese_waltz → waltz; east_coast_swing + jitterbug + jive + west_coast_swing + triple_two → swing; foxtrot + quickstep → foxtrot_quickstep; salsa + merengue + cumbia → salsa_merengue_cumbia".to_string());
            notes.push(
                "dropped (4 songs each, too few to learn): hustle, nightclub, paso_doble, rumba, tango".to_string(),
            );
            (
                entries,
                music.clone(),
                "ballroom by song (1 song in 5, by a fixed hash; a song filed under two dances stays on one side)"
                    .to_string(),
                notes,
                serde_json::Value::Null,
            )
        }
        "sounds" => (
            rows.iter()
                .filter(|r| r.dataset == "urbansound8k")
                .map(|r| {
                    let fold = if r.source_path.contains("/fold2/") { "fold2" } else { "fold1" };
                    // Slices of one Freesound recording (`<fsID>-<class>-<occurrence>-<slice>`)
                    // stay together too, for cross-validation inside a fold.
                    let name = Path::new(&r.source_path).file_name().map(|n| n.to_string_lossy().into_owned());
                    let recording = name.as_deref().and_then(|n| n.split('-').next()).unwrap_or("").to_string();
                    (r.label.clone(), r, format!("{fold}:{recording}"), fold == "fold2")
                })
                .collect(),
            FeatureParams { segment_seconds: 4.0, segment_hop_seconds: 4.0, ..music },
            "UrbanSound8K official folds: fold 1 trains, fold 2 validates".to_string(),
            vec!["4-second segments, the length of the UrbanSound8K clips".to_string()],
            serde_json::Value::Null,
        ),
        other => return Err(format!("unknown task `{other}` (known: {})", TASKS.join(", "))),
    };
    let mut labels: Vec<String> = entries.iter().map(|(l, ..)| l.clone()).collect();
    labels.sort();
    labels.dedup();
    let examples = entries
        .iter()
        .map(|(label, row, group, validation)| Example {
            path: data.join(&row.path),
            label: labels.iter().position(|l| l == label).unwrap_or(0),
            group: group.clone(),
            validation: *validation,
        })
        .collect();
    Ok(Dataset { task: task.to_string(), labels, examples, features, split_rule, notes, label_details: details })
}

/// Builds a dataset from `dir/<label>/**/<audio files>`: the "sound classifier" workflow.
pub fn from_folders(dir: &Path, name: &str, features: FeatureParams) -> Result<Dataset, String> {
    let mut by_label: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        let label = entry.file_name().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(entry.path())
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
        files.sort();
        if !files.is_empty() {
            by_label.insert(label, files);
        }
    }
    if by_label.len() < 2 {
        return Err(format!("{} needs at least two non-empty subfolders, one per label", dir.display()));
    }
    let labels: Vec<String> = by_label.keys().cloned().collect();
    let mut examples = Vec::new();
    for (label, files) in by_label.values().enumerate() {
        let count = files.len();
        for (i, path) in files.iter().enumerate() {
            // Every fifth file of each label (at least one when a label has two or more) validates.
            let last_of_a_small_folder = count < HOLDOUT as usize && i == count - 1;
            let validation = count >= 2 && (i % HOLDOUT as usize == HOLDOUT as usize - 1 || last_of_a_small_folder);
            examples.push(Example { path: path.clone(), label, group: path.display().to_string(), validation });
        }
    }
    Ok(Dataset {
        task: name.to_string(),
        labels,
        examples,
        features,
        split_rule:
            "by file: every fifth file of each label folder (and the last of a folder with under five) is held out"
                .into(),
        notes: vec![],
        label_details: serde_json::Value::Null,
    })
}

impl Dataset {
    /// Examples of one side of the split.
    pub fn split(&self, validation: bool) -> Vec<&Example> {
        self.examples.iter().filter(|e| e.validation == validation).collect()
    }

    /// Swaps the two sides of a two-fold split (UrbanSound8K: fold 2 trains, fold 1 validates),
    /// for the second half of a two-fold cross-validation.
    pub fn swap_split(&mut self) {
        self.examples.iter_mut().for_each(|e| e.validation = !e.validation);
        self.split_rule = format!("swapped sides of: {}", self.split_rule);
    }

    /// Examples per label on one side.
    pub fn counts(&self, validation: bool) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        self.split(validation).iter().for_each(|e| counts[e.label] += 1);
        counts
    }
}

/// Ballroom dance → the label it is trained under (`None`: dropped).
fn dance_family(dance: &str) -> Option<&'static str> {
    Some(match dance {
        "waltz" | "viennese_waltz" => "waltz",
        "east_coast_swing" | "jitterbug" | "jive" | "west_coast_swing" | "triple_two" => "swing",
        "foxtrot" | "quickstep" => "foxtrot_quickstep",
        "salsa" | "merengue" | "cumbia" => "salsa_merengue_cumbia",
        "bachata" => "bachata",
        "cha_cha" => "cha_cha",
        "two_step" => "two_step",
        "polka" => "polka",
        "samba" => "samba",
        "zouk" => "zouk",
        _ => return None,
    })
}

fn artist_group(row: &Row) -> String {
    let artist = row.artist.trim().to_lowercase();
    if artist.is_empty() { format!("file:{}", row.path) } else { format!("artist:{artist}") }
}

/// GTZAN clips hold out their last index block; everything else is grouped by artist.
fn genre_group(row: &Row) -> (String, bool) {
    if row.dataset == "gtzan" {
        let index: usize = row.path.rsplit('.').nth(1).and_then(|i| i.parse().ok()).unwrap_or(0);
        let block = index / 20;
        (format!("gtzan:{}:{block}", row.genre), block == 3)
    } else {
        let group = artist_group(row);
        let validation = held_out(&group);
        (group, validation)
    }
}

/// A fixed, seed-independent hash split: the split is never tuned.
fn held_out(group: &str) -> bool {
    let hash = group.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    hash % HOLDOUT == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dances_merge_into_families_and_rare_ones_are_dropped() {
        assert_eq!(dance_family("viennese_waltz"), Some("waltz"));
        assert_eq!(dance_family("jive"), Some("swing"));
        assert_eq!(dance_family("tango"), None);
    }

    #[test]
    fn the_split_is_stable_and_near_one_in_five() {
        let held = (0..1000).filter(|i| held_out(&format!("artist:{i}"))).count();
        assert!((150..250).contains(&held), "{held}");
        assert_eq!(held_out("artist:abba"), held_out("artist:abba"));
    }
}
