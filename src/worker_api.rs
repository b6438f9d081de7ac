//! Messages between the browser app's page and its Web Worker. Both sides are Rust; the
//! messages travel as plain JS objects (serde), with large byte arrays beside them as
//! transferable `Uint8Array`s (a dropped file as its `Blob`) in the message's `payload` (see each variant).

use serde::{Deserialize, Serialize};

use crate::report::TrackReport;
use crate::share::Share;

/// A model bundle to load, by name; its ONNX bytes travel in the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleSource {
    /// Shown in messages (`genre`, or the file name of a user's own model).
    pub name: String,
    /// The JSON sidecar's text.
    pub sidecar: String,
}

impl BundleSource {
    /// The backbone file its sidecar names (`backbone/musicnn_msd.onnx`), when that is a plain
    /// relative path to an `.onnx` file (anything else the worker refuses with the sidecar).
    pub fn backbone_file(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Named {
            backbone: Option<File>,
        }
        #[derive(Deserialize)]
        struct File {
            file: String,
        }
        let file = serde_json::from_str::<Named>(&self.sidecar).ok()?.backbone?.file;
        let plain = file
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains(['\\', ':', '?', '#', '%']));
        (plain && file.ends_with(".onnx")).then_some(file)
    }
}

/// What the page asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Replace the models in use; `payload[i]` is `bundles[i]`'s ONNX file, then
    /// `payload[bundles.len() + j]` is the backbone file `backbones[j]` (sent once however many
    /// bundles name it).
    LoadModels {
        /// Answered with the same number.
        request: u32,
        /// The bundles, in the payload's order.
        bundles: Vec<BundleSource>,
        /// The backbone files the bundles' sidecars name (`backbone/musicnn_msd.onnx`), whose
        /// bytes follow the bundles' in the payload.
        #[serde(default)]
        backbones: Vec<String>,
    },
    /// Decode and classify one file; `payload[0]` is the file itself (a `Blob`: the worker
    /// checks its size against the in-memory limit before reading it), or its bytes.
    ///
    /// A file split over several workers is decoded once: share 0's payload is the file then one
    /// `MessagePort` per other share, to which it relays the decoded samples; each other
    /// share's payload is only the other end of its port.
    Analyze {
        /// The page's job number, repeated in every answer about it.
        job: u32,
        /// The file name (its extension is a decoding hint).
        name: String,
        /// The segments to classify (the whole file unless it is split over several workers);
        /// the first share also measures the descriptors.
        #[serde(default)]
        share: Share,
    },
    /// Job `job` failed on another share: stop relaying its samples or waiting for them. A
    /// worker on the job still ends it with one answer, as every job.
    Abandon {
        /// The page's job number.
        job: u32,
    },
}

/// A loaded model as the page needs to know it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The bundle's name as sent.
    pub name: String,
    /// The task its sidecar declares.
    pub task: String,
    /// Its labels, in output order.
    pub labels: Vec<String>,
    /// The sidecar's `trained_on` note.
    pub trained_on: String,
    /// Independent tags (sigmoid scores) rather than one label (softmax scores summing to 1).
    #[serde(default)]
    pub multi_label: bool,
}

/// The track's log-mel picture (see `features::MelThumbnail`); its pixels, row-major, are `payload[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PictureShape {
    /// Rows (row 0 = highest band).
    pub rows: u32,
    /// Columns.
    pub columns: u32,
    /// Columns per second of audio.
    pub columns_per_second: f64,
}

/// Milliseconds a worker spent in each stage of one file (or of its share of one file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageMs {
    /// Demuxing, decoding and downmixing.
    pub decode: f64,
    /// Sample-rate conversion.
    pub resample: f64,
    /// STFT, mel filterbank and decibels.
    pub mel: f64,
    /// Model inference.
    pub inference: f64,
    /// Tempo, key, loudness, energy and danceability.
    pub descriptors: f64,
    /// Waiting on another worker of a split file: for the samples it relays, or for it to
    /// take them.
    #[serde(default)]
    pub waiting: f64,
}

impl StageMs {
    /// One line for people: `decode 120 ms · inference 2,310 ms …`, the stages that took time.
    pub fn summary(&self) -> String {
        let stages = [
            ("decode", self.decode),
            ("resample", self.resample),
            ("mel", self.mel),
            ("inference", self.inference),
            ("descriptors", self.descriptors),
            ("waiting", self.waiting),
        ];
        stages
            .iter()
            .filter(|(_, ms)| *ms >= 0.5)
            .map(|(name, ms)| format!("{name} {ms:.0} ms"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The summaries of the workers that shared a file, one line each (`worker 2: …`), or the
    /// one summary of a file a single worker classified.
    pub fn summaries(all: &[StageMs]) -> String {
        match all {
            [one] => one.summary(),
            many => many
                .iter()
                .enumerate()
                .map(|(i, s)| format!("worker {}: {}", i + 1, s.summary()))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// What the worker tells the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is running and listens.
    Ready,
    /// Answer to [`ToWorker::LoadModels`]: the bundles that loaded, and why the others did not.
    ModelsLoaded {
        /// The request's number.
        request: u32,
        /// Bundles in use from now on.
        loaded: Vec<ModelSummary>,
        /// `(name, message)` of each bundle that was refused.
        refused: Vec<(String, String)>,
    },
    /// Fraction (0–1) of a job done.
    Progress {
        /// The job.
        job: u32,
        /// Fraction decoded and classified.
        fraction: f64,
    },
    /// A job's result; `payload[0]` holds the picture's pixels.
    Done {
        /// The job.
        job: u32,
        /// What the models say.
        report: TrackReport,
        /// The spectrogram picture's shape.
        picture: PictureShape,
        /// Time spent in each stage.
        #[serde(default)]
        stages: StageMs,
    },
    /// A job that could not be classified, with a message for the user.
    Failed {
        /// The job.
        job: u32,
        /// What went wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_kind() {
        let message = ToWorker::Analyze { job: 3, name: "a.mp3".into(), share: Share { index: 1, count: 2 } };
        let json = serde_json::to_value(&message).unwrap();
        let expected =
            serde_json::json!({"kind": "analyze", "job": 3, "name": "a.mp3", "share": {"index": 1, "count": 2}});
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), message);
        // Without a share: the whole file.
        let whole = serde_json::json!({"kind": "analyze", "job": 3, "name": "a.mp3"});
        assert!(matches!(serde_json::from_value(whole).unwrap(), ToWorker::Analyze { share: Share::WHOLE, .. }));
        let failed = FromWorker::Failed { job: 1, message: "no".into() };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&failed).unwrap()).unwrap();
        assert_eq!(back, failed);
    }

    #[test]
    fn stage_times_read_as_one_line() {
        let stages =
            StageMs { decode: 120.4, resample: 0.2, mel: 23.0, inference: 2310.0, descriptors: 480.0, waiting: 0.0 };
        assert_eq!(stages.summary(), "decode 120 ms · mel 23 ms · inference 2310 ms · descriptors 480 ms");
        assert_eq!(StageMs::default().summary(), "");
        assert_eq!(StageMs::summaries(&[stages]), stages.summary());
        let two = StageMs::summaries(&[stages, StageMs { inference: 10.0, waiting: 30.2, ..StageMs::default() }]);
        assert_eq!(two, format!("worker 1: {}\nworker 2: inference 10 ms · waiting 30 ms", stages.summary()));
        assert_eq!(StageMs::summaries(&[]), "");
    }

    #[test]
    fn models_travel_with_the_backbones_they_name() {
        let message = ToWorker::LoadModels {
            request: 2,
            bundles: vec![BundleSource { name: "tags".into(), sidecar: "{}".into() }],
            backbones: vec!["backbone/musicnn_msd.onnx".into()],
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["backbones"], serde_json::json!(["backbone/musicnn_msd.onnx"]));
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), message);
        // A page that names no backbones.
        let old = serde_json::json!({"kind": "load_models", "request": 1, "bundles": []});
        assert!(
            matches!(serde_json::from_value(old).unwrap(), ToWorker::LoadModels { backbones, .. } if backbones.is_empty())
        );
    }

    #[test]
    fn the_backbone_a_sidecar_names_is_read_if_it_is_a_plain_relative_path() {
        let named = |sidecar: &str| BundleSource { name: "x".into(), sidecar: sidecar.into() }.backbone_file();
        let with = |file: &str| {
            named(&format!(r#"{{"task": "tags", "backbone": {{"file": "{file}", "outputs": ["logits"]}}}}"#))
        };
        assert_eq!(with("backbone/musicnn_msd.onnx").as_deref(), Some("backbone/musicnn_msd.onnx"));
        assert_eq!(with("musicnn.onnx").as_deref(), Some("musicnn.onnx"));
        for bad in [
            "../secret.onnx",
            "/etc/x.onnx",
            "a//b.onnx",
            "http://x/y.onnx",
            "backbone/x.bin",
            "a/./b.onnx",
            "%2e%2e/x.onnx",
        ] {
            assert_eq!(with(bad), None, "{bad}");
        }
        assert_eq!(named(r#"{"task": "genre"}"#), None);
        assert_eq!(named("not json"), None);
    }
}
