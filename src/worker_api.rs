//! Messages between the browser app's page and its Web Worker. Both sides are Rust; the
//! messages travel as plain JS objects (serde), with large byte arrays beside them as
//! transferable `Uint8Array`s in the message's `payload` (see each variant).

use serde::{Deserialize, Serialize};

use crate::report::TrackReport;

/// A model bundle to load, by name; its ONNX bytes travel in the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleSource {
    /// Shown in messages (`genre`, or the file name of a user's own model).
    pub name: String,
    /// The JSON sidecar's text.
    pub sidecar: String,
}

/// What the page asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Replace the models in use; `payload[i]` is `bundles[i]`'s ONNX file.
    LoadModels {
        /// Answered with the same number.
        request: u32,
        /// The bundles, in the payload's order.
        bundles: Vec<BundleSource>,
    },
    /// Decode and classify one file; `payload[0]` is its bytes.
    Analyze {
        /// The page's job number, repeated in every answer about it.
        job: u32,
        /// The file name (its extension is a decoding hint).
        name: String,
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
        let message = ToWorker::Analyze { job: 3, name: "a.mp3".into() };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "analyze", "job": 3, "name": "a.mp3"}));
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), message);
        let failed = FromWorker::Failed { job: 1, message: "no".into() };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&failed).unwrap()).unwrap();
        assert_eq!(back, failed);
    }
}
