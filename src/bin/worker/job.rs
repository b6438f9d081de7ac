//! One file's analysis in a worker (the whole file, or one share of it): the models' verdicts
//! on its segments, its spectrogram picture, its progress and what it cost so far.

use std::future::Future;
use std::time::Duration;

use web_time::Instant;

use musicat::analyze::{AnalyzeError, MelSegment, PROGRESS_STEP_S, SegmentChooser};
use musicat::audio::Chunk;
use musicat::features::MelThumbnail;
use musicat::share::Costs;
use musicat::worker_api::StageMs;
use musicat::{Analyzer, Models, TrackReport};

use super::picture::PictureSource;
use super::relay::Link;

/// Rows of the spectrogram picture.
const PICTURE_ROWS: usize = 64;
/// Columns per second of the spectrogram picture.
const PICTURE_COLUMNS_PER_SECOND: f64 = 10.0;
/// Smallest progress step reported.
const PROGRESS_STEP: f64 = 0.02;
/// Shortest time between two progress reports of a job after its first: the page redraws the
/// job's row for each (a few ms of its main thread, which shares the cores with the workers: a
/// report every 5 s of audio took ~0.4 s of it on a 3-minute track split over two workers).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// A decoded packet the leader keeps until it analyses it itself, with its samples resampled
/// for each feature configuration (relayed already).
#[derive(Default)]
pub struct Packet {
    interleaved: Vec<f32>,
    /// Its channels averaged.
    pub mono: Vec<f32>,
    channels: usize,
    /// Per feature configuration, its samples at that configuration's rate.
    pub resampled: Vec<Vec<f32>>,
}

impl Packet {
    pub fn fill(&mut self, chunk: Chunk<'_>) {
        self.interleaved.clear();
        self.interleaved.extend_from_slice(chunk.interleaved);
        self.mono.clear();
        self.mono.extend_from_slice(chunk.mono);
        self.channels = chunk.channels;
    }

    /// A packet of the resamplers' last samples alone (no decoded audio).
    pub fn flushed(&mut self) {
        self.interleaved.clear();
        self.mono.clear();
        self.channels = 0;
    }

    /// The decoded audio, for the descriptors (`None` for the resamplers' last samples).
    pub fn chunk(&self) -> Option<Chunk<'_>> {
        (self.channels > 0).then_some(Chunk {
            mono: &self.mono,
            interleaved: &self.interleaved,
            channels: self.channels,
        })
    }
}

/// What a share of a file gives: its report, its part of the picture, its stage times.
pub type Outcome = (TrackReport, MelThumbnail, StageMs);

/// One file's analysis in this worker: its share's verdicts and picture, and progress.
pub struct Job<'m> {
    id: u32,
    pub analyzer: Analyzer<'m>,
    picture: MelThumbnail,
    source: Option<PictureSource>,
    reported: f64,
    /// When progress was last reported.
    reported_at: Option<Instant>,
    /// Time spent decoding (measured by the caller).
    pub decode: Duration,
    /// Time spent waiting on another worker of a split file (measured by the caller).
    pub waiting: Duration,
    /// Segments classified so far (not silent).
    pub classified: u32,
}

impl<'m> Job<'m> {
    /// Job `id`, classifying the segments `chooser` picks (all without one); the leader (or
    /// the only worker on the file) also measures the descriptors.
    pub fn new(id: u32, models: &'m Models, chooser: Option<SegmentChooser<'m>>, leader: bool) -> Self {
        let analyzer = Analyzer::new(models);
        let analyzer = match chooser {
            Some(chooser) => analyzer.with_segments(chooser),
            None => analyzer,
        };
        Self {
            id,
            analyzer: if leader { analyzer.with_descriptors() } else { analyzer },
            picture: MelThumbnail::new(PICTURE_ROWS, PICTURE_COLUMNS_PER_SECOND),
            source: PictureSource::choose(models.bundles().iter().map(|b| &b.sidecar.features)),
            reported: 0.0,
            reported_at: None,
            decode: Duration::ZERO,
            waiting: Duration::ZERO,
            classified: 0,
        }
    }

    pub fn start(&mut self, rate: u32) -> Result<(), String> {
        self.analyzer.start(rate).map_err(|e| e.to_string())
    }

    /// Starts a share whose samples arrive resampled (see [`Job::push_resampled`]).
    pub fn start_resampled(&mut self) -> Result<(), String> {
        self.analyzer.start_resampled().map_err(|e| e.to_string())
    }

    pub fn push(&mut self, chunk: Chunk<'_>) -> Result<(), String> {
        self.observed(|analyzer, observe| analyzer.push(chunk, observe))
    }

    /// Samples resampled for each feature configuration (here or by the leader), with the
    /// decoded packet they came from when the descriptors are measured here.
    pub fn push_resampled(&mut self, resampled: &[Vec<f32>], chunk: Option<Chunk<'_>>) -> Result<(), String> {
        self.observed(|analyzer, observe| analyzer.push_resampled(resampled, chunk, observe))
    }

    /// Runs `step` with an observer that counts the segments classified and draws them.
    fn observed(
        &mut self,
        step: impl FnOnce(&mut Analyzer<'m>, &mut dyn FnMut(MelSegment<'_>)) -> Result<(), AnalyzeError>,
    ) -> Result<(), String> {
        let (picture, source, classified) = (&mut self.picture, &mut self.source, &mut self.classified);
        let mut observe = |segment: MelSegment<'_>| {
            *classified += 1;
            draw(picture, source, segment)
        };
        step(&mut self.analyzer, &mut observe).map_err(|e| e.to_string())
    }

    /// Milliseconds spent on the segments (spectrograms and inference).
    pub fn segments_ms(&self) -> f64 {
        let t = self.analyzer.times();
        ms(t.mel + t.inference)
    }

    /// What this track cost the leader so far, with its followers' segments.
    pub fn costs(&self, links: &[Link]) -> Costs {
        let t = self.analyzer.times();
        Costs {
            leader_fixed_ms: ms(self.decode + t.resample + t.descriptors),
            inference_ms: self.segments_ms() + links.iter().map(Link::inference_ms).sum::<f64>(),
            inferred: self.classified + links.iter().map(Link::classified).sum::<u32>(),
        }
    }

    /// Tells the page how far the job is, in steps of at least [`PROGRESS_STEP`] and
    /// [`PROGRESS_STEP_S`] seconds of audio (a batch of short clips is not thousands of messages),
    /// [`PROGRESS_INTERVAL`] apart.
    pub fn progress(&mut self, decoded_s: f64, announced_s: Option<f64>) {
        let Some(total) = announced_s.filter(|t| *t > 0.0) else { return };
        let fraction = (decoded_s / total).min(1.0);
        if fraction - self.reported >= PROGRESS_STEP
            && (fraction - self.reported) * total >= PROGRESS_STEP_S
            && self.reported_at.is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL)
        {
            self.reported = fraction;
            self.reported_at = Some(Instant::now());
            super::worker::post_progress(self.id, fraction);
        }
    }

    pub fn finish(mut self, duration_s: f64) -> Result<Outcome, String> {
        if self.reported < 1.0 {
            super::worker::post_progress(self.id, 1.0);
        }
        let (picture, source) = (&mut self.picture, &mut self.source);
        let report = self
            .analyzer
            .finish(duration_s, &mut |segment| draw(picture, source, segment))
            .map_err(|e| e.to_string())?;
        let t = self.analyzer.times();
        let stages = StageMs {
            decode: ms(self.decode),
            resample: ms(t.resample),
            mel: ms(t.mel),
            inference: ms(t.inference),
            descriptors: ms(t.descriptors),
            waiting: ms(self.waiting),
        };
        Ok((report, self.picture, stages))
    }
}

/// Runs `f`, adding the time it takes to `total` (a stage's time).
pub fn timed<T>(total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    *total += started.elapsed();
    out
}

/// Awaits `f`, adding the time it takes to `total` (time spent waiting on another worker).
pub async fn waited<T>(total: &mut Duration, f: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    *total += started.elapsed();
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Adds a segment's spectrogram to the picture (tasks with other feature parameters see the
/// same audio: one set is drawn).
fn draw(picture: &mut MelThumbnail, source: &mut Option<PictureSource>, segment: MelSegment<'_>) {
    let Some(source) = source.as_mut() else { return };
    let (start_s, end_s) = source.span(segment.start_s, segment.end_s);
    if let Some(db) = source.decibels(segment.params, segment.db) {
        picture.add(segment.params, start_s, end_s, db);
    }
}
