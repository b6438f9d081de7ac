//! The app's shared state: signals the components read and the engine writes.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

use super::record::TrackRecord;

/// Where a file of the batch is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    /// Waiting for the worker.
    Queued,
    /// Being decoded and classified.
    Running,
    /// Classified and stored.
    Done,
    /// Could not be classified: why.
    Failed(String),
    /// Never sent to the worker: the batch was cancelled first.
    Cancelled,
}

impl JobStatus {
    /// Nothing more will happen to the file.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Done | Self::Failed(_) | Self::Cancelled)
    }
}

/// One dropped file.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Number in this session.
    pub id: u32,
    /// File name (with its folder path when a folder was dropped).
    pub name: String,
    /// Size in bytes.
    pub size: f64,
    /// State.
    pub status: JobStatus,
    /// Fraction done (0–1).
    pub progress: f64,
    /// Workers classifying it at once (it is split in that many shares), once running.
    pub workers: u32,
    /// The library track it became.
    pub track_id: Option<String>,
    /// Time each worker on it spent per stage, once done.
    pub stages: Vec<crate::worker_api::StageMs>,
}

/// A track's spectrogram picture (grey levels, row-major, row 0 = highest band).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub rows: u32,
    pub columns: u32,
    pub columns_per_second: f64,
    pub pixels: Vec<u8>,
}

/// Where a model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// Listed in `models/index.json`.
    Shipped,
    /// Loaded by the user (kept in IndexedDB).
    Own,
}

/// A model the user can switch on or off.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Bundle name (`genre`, or the user's file name).
    pub name: String,
    pub source: ModelSource,
    pub enabled: bool,
    /// Known once the worker loaded it.
    pub task: Option<String>,
    pub labels: Vec<String>,
    pub trained_on: String,
    /// Independent tags (sigmoid), not one label.
    pub multi_label: bool,
    /// Why the worker refused it.
    pub error: Option<String>,
    /// A user's model not yet validated by the worker.
    pub pending: bool,
}

/// How the worker is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineStatus {
    Starting,
    LoadingModels,
    Ready,
    NoModels,
    Failed(String),
}

/// Signals shared by every component (cheap to copy).
#[derive(Clone, Copy)]
pub struct AppState {
    pub jobs: RwSignal<Vec<Job>>,
    pub library: RwSignal<Vec<TrackRecord>>,
    pub selected: RwSignal<Option<String>>,
    pub pictures: RwSignal<HashMap<String, Arc<Picture>>>,
    pub models: RwSignal<Vec<ModelEntry>>,
    pub engine: RwSignal<EngineStatus>,
    /// Workers holding the current models (the engine is ready from the first one on).
    pub workers_ready: RwSignal<u32>,
    /// Messages for the user that belong to no file (newest last).
    pub notices: RwSignal<Vec<String>>,
    /// The player's current time, in seconds.
    pub time: RwSignal<f64>,
    /// A seek requested by the timeline or the spectrogram.
    pub seek: RwSignal<Option<f64>>,
}

impl AppState {
    /// Fresh state.
    pub fn new() -> Self {
        Self {
            jobs: RwSignal::new(Vec::new()),
            library: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            pictures: RwSignal::new(HashMap::new()),
            models: RwSignal::new(Vec::new()),
            engine: RwSignal::new(EngineStatus::Starting),
            workers_ready: RwSignal::new(0),
            notices: RwSignal::new(Vec::new()),
            time: RwSignal::new(0.0),
            seek: RwSignal::new(None),
        }
    }

    /// Shows a message that belongs to no file.
    pub fn notice(&self, message: impl Into<String>) {
        let message = message.into();
        web_sys::console::warn_1(&message.clone().into());
        self.notices.update(|n| n.push(message));
    }

    /// The selected track's record.
    pub fn selected_track(&self) -> Option<TrackRecord> {
        let id = self.selected.get()?;
        self.library.with(|l| l.iter().find(|t| t.id == id).cloned())
    }
}

/// The state from context (provided by `App`).
pub fn use_state() -> AppState {
    use_context::<AppState>().unwrap_or_else(AppState::new)
}
