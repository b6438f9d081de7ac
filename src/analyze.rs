//! The pipeline: decoded audio → resampled → segments → log-mel → models → [`TrackReport`].
//! Tasks whose feature parameters (and backbone) agree share one resampler, segmenter and
//! spectrogram, and heads on one backbone share its run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use web_time::Instant;

use crate::audio::{AudioError, AudioStream, Chunk, StreamResampler};
use crate::descriptors::{self, DescriptorAnalyzer};
use crate::features::{FeatureParams, MelSpectrogram, Segment, Segmenter};
use crate::model::bundle::runner_error;
use crate::model::{Backbone, ModelBundle, ModelError, Models};
use crate::report::{
    OnlySilence, ProbabilityMean, SegmentLabel, SegmentPrediction, TaskVerdict, TrackReport, segment_key,
};

/// Seconds of audio decoded between two progress reports.
pub const PROGRESS_STEP_S: f64 = 5.0;

/// Segments sent to a model at once: one per inference thread (at least two). Larger batches
/// are no faster with tract but hold every segment's intermediate tensors at once (musicnn's
/// front end: about 50 MB per segment, 400 MB for a batch of 8).
pub fn batch_size() -> usize {
    crate::model::runner::threads().max(2)
}

/// Why a track could not be classified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyzeError {
    /// The file could not be decoded.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Nothing but digital silence.
    #[error(transparent)]
    Silent(#[from] OnlySilence),
}

/// Time spent in each stage, summed over a track (or a batch of tracks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Demuxing, decoding and downmixing.
    pub decode: Duration,
    /// Sample-rate conversion.
    pub resample: Duration,
    /// STFT, mel filterbank and decibels.
    pub mel: Duration,
    /// Model inference and softmax.
    pub inference: Duration,
    /// Tempo, key, loudness and the scores built on them (when enabled).
    pub descriptors: Duration,
}

/// A segment waiting in a batch.
struct Pending {
    start_s: f64,
    end_s: f64,
    silent: bool,
}

/// One segment's log-mel spectrogram, as handed to [`Analyzer::analyze_observed`]'s observer.
#[derive(Debug, Clone, Copy)]
pub struct MelSegment<'a> {
    /// The feature parameters it was computed with (tasks with other parameters get their own calls).
    pub params: &'a FeatureParams,
    /// Start of the segment, in seconds.
    pub start_s: f64,
    /// End of its real audio, in seconds.
    pub end_s: f64,
    /// Exactly the model's input: `[n_mels][frames]` dB values, or, for a backbone's front end
    /// (see `params.scale` and `params.layout`), `[frames][n_mels]` log-compressed values.
    pub db: &'a [f32],
}

/// Per-track state of one task.
struct TaskState<'m> {
    bundle: &'m ModelBundle,
    mean: ProbabilityMean,
}

/// Tasks sharing one set of feature parameters and backbone.
struct FeatureGroup<'m> {
    params: FeatureParams,
    backbone: Option<Arc<Backbone>>,
    /// The backbone's outputs for the current batch, item after item.
    embeddings: Vec<f32>,
    /// One head's input for the current batch, gathered from `embeddings`.
    head_inputs: Vec<f32>,
    spectrogram: MelSpectrogram,
    tasks: Vec<TaskState<'m>>,
    segmenter: Segmenter,
    resampler: Option<StreamResampler>,
    inputs: Vec<f32>,
    /// Segments per model call.
    batch_size: usize,
    batch: Vec<Pending>,
    probabilities: Vec<f32>,
    timeline: Vec<(Pending, Vec<(usize, SegmentLabel)>)>,
    /// Segments the segmenter has cut from the current track so far.
    cut: usize,
}

/// Whether to classify segment `index` (from 0, silent ones included) of feature configuration
/// `group` (the models' distinct feature configurations, in the order of the models).
pub type SegmentChooser<'m> = Box<dyn FnMut(usize, usize) -> bool + 'm>;

/// Classifies tracks with a set of models; build once, reuse for every track.
pub struct Analyzer<'m> {
    groups: Vec<FeatureGroup<'m>>,
    /// Which segments to classify (`None`: all).
    segments: Option<SegmentChooser<'m>>,
    descriptors: Option<DescriptorAnalyzer>,
    /// The feature configuration whose samples are at the descriptors' rate, if any: the
    /// descriptors then read them instead of resampling every packet a second time.
    descriptors_group: Option<usize>,
    times: StageTimes,
    /// Per feature configuration, the current packet's samples at its rate.
    resampled: Vec<Vec<f32>>,
}

impl<'m> Analyzer<'m> {
    /// Prepares spectrograms (FFT plans, filterbanks) for every distinct feature configuration.
    pub fn new(models: &'m Models) -> Self {
        let mut groups: Vec<FeatureGroup<'m>> = Vec::new();
        for bundle in models.bundles() {
            let params = &bundle.sidecar.features;
            let state = TaskState { bundle, mean: ProbabilityMean::new(bundle.sidecar.labels.len()) };
            let backbone = bundle.backbone().map(|(b, _)| Arc::clone(b));
            let same_backbone = |g: &FeatureGroup<'_>| match (&g.backbone, &backbone) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            match groups.iter_mut().find(|g| &g.params == params && same_backbone(g)) {
                Some(group) => group.tasks.push(state),
                None => {
                    let spectrogram = MelSpectrogram::new(params);
                    groups.push(FeatureGroup {
                        inputs: vec![0.0; batch_size() * spectrogram.output_len()],
                        spectrogram,
                        params: params.clone(),
                        backbone,
                        embeddings: Vec::new(),
                        head_inputs: Vec::new(),
                        tasks: vec![state],
                        segmenter: Segmenter::new(params.segment_samples(), params.segment_hop_samples()),
                        resampler: None,
                        batch_size: batch_size(),
                        batch: Vec::with_capacity(batch_size()),
                        probabilities: Vec::new(),
                        timeline: Vec::new(),
                        cut: 0,
                    });
                }
            }
        }
        Self {
            groups,
            segments: None,
            descriptors: None,
            descriptors_group: None,
            times: StageTimes::default(),
            resampled: Vec::new(),
        }
    }

    /// Also computes each track's [`Descriptors`](crate::report::Descriptors) (tempo, key,
    /// loudness, energy, danceability) in the same decoding pass.
    pub fn with_descriptors(mut self) -> Self {
        self.descriptors = Some(DescriptorAnalyzer::new());
        self.descriptors_group = self.groups.iter().position(|g| g.params.sample_rate == descriptors::SAMPLE_RATE);
        self
    }

    /// Classifies only the segments `chooser` picks, asked as each segment is cut (the rest of
    /// the work, resampling, is the same): one share of a track split over several workers
    /// ([`crate::share`]), whose reports [`crate::share::merge`] puts together. An analysis
    /// that classified no segment reports no verdicts rather than failing as silent.
    pub fn with_segments(mut self, chooser: impl FnMut(usize, usize) -> bool + 'm) -> Self {
        self.segments = Some(Box::new(chooser));
        self
    }

    /// Per feature configuration (see [`Analyzer::with_segments`]), seconds between the starts
    /// of two segments: segment `k` starts at `k` times that.
    pub fn segment_hops_s(&self) -> Vec<f64> {
        self.groups.iter().map(|g| g.params.segment_hop_samples() as f64 / g.params.sample_rate as f64).collect()
    }

    /// Stage times accumulated over every track analysed so far.
    pub fn times(&self) -> StageTimes {
        self.times
    }

    /// Decodes and classifies one track.
    pub fn analyze(&mut self, stream: AudioStream) -> Result<TrackReport, AnalyzeError> {
        self.analyze_with_progress(stream, &mut |_| {})
    }

    /// Like [`Analyzer::analyze`], calling `progress` with the fraction decoded so far (0–1) when
    /// the file announces its length.
    pub fn analyze_with_progress(
        &mut self,
        stream: AudioStream,
        progress: &mut dyn FnMut(f64),
    ) -> Result<TrackReport, AnalyzeError> {
        self.analyze_observed(stream, progress, &mut |_| {})
    }

    /// Like [`Analyzer::analyze_with_progress`], also handing every non-silent segment's log-mel
    /// spectrogram (the model input, already computed) to `on_mel` as it goes, so a caller can
    /// draw the track's spectrogram without a second decode.
    pub fn analyze_observed(
        &mut self,
        mut stream: AudioStream,
        progress: &mut dyn FnMut(f64),
        on_mel: &mut dyn FnMut(MelSegment<'_>),
    ) -> Result<TrackReport, AnalyzeError> {
        self.start(stream.sample_rate())?;
        let announced = stream.announced_seconds();
        let mut reported = 0.0;
        loop {
            let started = Instant::now();
            let chunk = stream.next_packet()?;
            self.times.decode += started.elapsed();
            let Some(chunk) = chunk else { break };
            self.push(chunk, on_mel)?;
            if let Some(total) = announced.filter(|t| *t > 0.0) {
                let now = stream.decoded_seconds();
                if now - reported >= PROGRESS_STEP_S {
                    reported = now;
                    progress((now / total).min(1.0));
                }
            }
        }
        progress(1.0);
        self.finish(stream.decoded_seconds(), on_mel)
    }

    /// Starts a track decoded at `source_rate` Hz, to be fed packet by packet with
    /// [`Analyzer::push`] and ended with [`Analyzer::finish`]: what
    /// [`Analyzer::analyze_observed`] does with a stream it decodes, for audio decoded elsewhere.
    pub fn start(&mut self, source_rate: u32) -> Result<(), AnalyzeError> {
        for group in &mut self.groups {
            group.reset(source_rate)?;
        }
        if let Some(descriptors) = self.descriptors.as_mut() {
            match self.descriptors_group {
                Some(_) => descriptors.reset_resampled(source_rate),
                None => descriptors.reset(source_rate)?,
            }
        }
        Ok(())
    }

    /// Adds the track's next decoded packet.
    pub fn push(&mut self, chunk: Chunk<'_>, on_mel: &mut dyn FnMut(MelSegment<'_>)) -> Result<(), AnalyzeError> {
        self.resample_and_push(Some(chunk), on_mel)
    }

    /// Resamples `chunk` (`None`: flushes the resamplers) into the analyzer's own buffer, then
    /// pushes it: [`Analyzer::push`] and the start of [`Analyzer::finish`].
    fn resample_and_push(
        &mut self,
        chunk: Option<Chunk<'_>>,
        on_mel: &mut dyn FnMut(MelSegment<'_>),
    ) -> Result<(), AnalyzeError> {
        let mut resampled = std::mem::take(&mut self.resampled);
        match &chunk {
            Some(chunk) => self.resample(chunk.mono, &mut resampled),
            None => self.flush_resamplers(&mut resampled),
        }
        let pushed = self.push_resampled(&resampled, chunk, on_mel);
        self.resampled = resampled;
        pushed
    }

    /// The first half of [`Analyzer::push`], for a caller that hands the samples on before
    /// analysing them (the worker that decodes a file split over several relays them): a
    /// packet's mono samples resampled for every feature configuration, into `out[g]`.
    pub fn resample(&mut self, mono: &[f32], out: &mut Vec<Vec<f32>>) {
        out.resize_with(self.groups.len(), Vec::new);
        for (group, out) in self.groups.iter_mut().zip(out.iter_mut()) {
            group.resample(mono, out, &mut self.times);
        }
    }

    /// Ends the track's resampling: the resamplers' last samples, into `out[g]` (to be pushed
    /// like the others; [`Analyzer::finish`] then has nothing left to flush).
    pub fn flush_resamplers(&mut self, out: &mut Vec<Vec<f32>>) {
        out.resize_with(self.groups.len(), Vec::new);
        for (group, out) in self.groups.iter_mut().zip(out.iter_mut()) {
            group.flush(out, &mut self.times);
        }
    }

    /// The second half of [`Analyzer::push`]: samples already at each feature configuration's
    /// rate (`resampled[g]`, from [`Analyzer::resample`] here or in another worker) and, for
    /// the descriptors, the packet they came from (`None` for the resamplers' last samples).
    pub fn push_resampled(
        &mut self,
        resampled: &[Vec<f32>],
        chunk: Option<Chunk<'_>>,
        on_mel: &mut dyn FnMut(MelSegment<'_>),
    ) -> Result<(), AnalyzeError> {
        for (g, (group, samples)) in self.groups.iter_mut().zip(resampled).enumerate() {
            let mut chosen = |k: usize| self.segments.as_mut().is_none_or(|choose| choose(g, k));
            group.segment(Some(samples), &mut self.times, on_mel, &mut chosen)?;
        }
        self.describe(chunk, resampled);
        Ok(())
    }

    /// Starts a track that arrives resampled already, through [`Analyzer::push_resampled`]
    /// (the other workers of a split file); an analyzer without descriptors.
    pub fn start_resampled(&mut self) -> Result<(), AnalyzeError> {
        debug_assert!(self.descriptors.is_none(), "the descriptors need the decoded packets");
        for group in &mut self.groups {
            group.reset(group.params.sample_rate)?;
        }
        Ok(())
    }

    /// Adds a packet (`None`: the resamplers' last samples) to the descriptors, with its samples
    /// at each feature configuration's rate.
    fn describe(&mut self, chunk: Option<Chunk<'_>>, resampled: &[Vec<f32>]) {
        let Some(descriptors) = self.descriptors.as_mut() else { return };
        let started = Instant::now();
        match (self.descriptors_group.and_then(|g| resampled.get(g)), chunk) {
            (Some(at_rate), chunk) => {
                if let Some(chunk) = chunk {
                    descriptors.push_loudness(chunk);
                }
                descriptors.push_at_rate(at_rate);
            }
            (None, Some(chunk)) => descriptors.push(chunk),
            (None, None) => {}
        }
        self.times.descriptors += started.elapsed();
    }

    /// Ends the track, `duration_s` seconds long: its report.
    pub fn finish(
        &mut self,
        duration_s: f64,
        on_mel: &mut dyn FnMut(MelSegment<'_>),
    ) -> Result<TrackReport, AnalyzeError> {
        self.resample_and_push(None, on_mel)?;
        for (g, group) in self.groups.iter_mut().enumerate() {
            let mut chosen = |k: usize| self.segments.as_mut().is_none_or(|choose| choose(g, k));
            group.segment(None, &mut self.times, on_mel, &mut chosen)?;
            group.run_batch(&mut self.times)?;
        }
        let mut report = self.report(duration_s)?;
        if let Some(descriptors) = self.descriptors.as_mut() {
            let started = Instant::now();
            report.descriptors = Some(descriptors.finish());
            self.times.descriptors += started.elapsed();
        }
        Ok(report)
    }

    fn report(&mut self, duration_s: f64) -> Result<TrackReport, AnalyzeError> {
        let mut tasks = BTreeMap::new();
        let mut segments: BTreeMap<(u64, u64), SegmentPrediction> = BTreeMap::new();
        for group in &mut self.groups {
            for state in &group.tasks {
                if let Some(means) = state.mean.mean() {
                    let sidecar = &state.bundle.sidecar;
                    tasks.insert(sidecar.task.clone(), TaskVerdict::from_means(&sidecar.labels, &means));
                }
            }
            for (pending, labels) in group.timeline.drain(..) {
                let key = segment_key(pending.start_s, pending.end_s);
                let entry = segments.entry(key).or_insert_with(|| SegmentPrediction {
                    start_s: pending.start_s,
                    end_s: pending.end_s,
                    silent: pending.silent,
                    tasks: BTreeMap::new(),
                });
                for (task, label) in labels {
                    entry.tasks.insert(group.tasks[task].bundle.task().to_string(), label);
                }
            }
        }
        if tasks.is_empty() && self.segments.is_none() {
            return Err(OnlySilence { seconds: duration_s }.into());
        }
        Ok(TrackReport { duration_s, tasks, segments: segments.into_values().collect(), descriptors: None })
    }
}

impl FeatureGroup<'_> {
    fn reset(&mut self, source_rate: u32) -> Result<(), AnalyzeError> {
        self.resampler = Some(StreamResampler::new(source_rate, self.params.sample_rate)?);
        self.segmenter = Segmenter::new(self.params.segment_samples(), self.params.segment_hop_samples());
        self.batch.clear();
        self.timeline.clear();
        self.cut = 0;
        for state in &mut self.tasks {
            state.mean = ProbabilityMean::new(state.bundle.sidecar.labels.len());
        }
        Ok(())
    }

    /// Resamples `mono` into `out` (cleared first).
    fn resample(&mut self, mono: &[f32], out: &mut Vec<f32>, times: &mut StageTimes) {
        let started = Instant::now();
        out.clear();
        if let Some(resampler) = self.resampler.as_mut() {
            resampler.push(mono, |block| out.extend_from_slice(block));
        }
        times.resample += started.elapsed();
    }

    /// Ends the resampling: the resampler's last samples into `out` (cleared first); nothing
    /// when it was flushed already.
    fn flush(&mut self, out: &mut Vec<f32>, times: &mut StageTimes) {
        let started = Instant::now();
        out.clear();
        if let Some(mut resampler) = self.resampler.take() {
            resampler.finish(|block| out.extend_from_slice(block));
        }
        times.resample += started.elapsed();
    }

    /// Feeds `samples` to the segmenter (or ends it with `None`); each completed segment's
    /// spectrogram goes into the batch, and full batches go to the models.
    fn segment(
        &mut self,
        samples: Option<&[f32]>,
        times: &mut StageTimes,
        on_mel: &mut dyn FnMut(MelSegment<'_>),
        chosen: &mut dyn FnMut(usize) -> bool,
    ) -> Result<(), ModelError> {
        let rate = self.params.sample_rate as f64;
        let item = self.spectrogram.output_len();
        let (spectrogram, inputs, batch, timeline, params) =
            (&mut self.spectrogram, &mut self.inputs, &mut self.batch, &mut self.timeline, &self.params);
        let cut = &mut self.cut;
        let mut accept = |segment: Segment<'_>| {
            *cut += 1;
            if !chosen(*cut - 1) {
                return;
            }
            let pending = Pending {
                start_s: segment.start_sample as f64 / rate,
                end_s: (segment.start_sample + segment.valid_samples) as f64 / rate,
                silent: segment.silent,
            };
            if segment.silent {
                timeline.push((pending, Vec::new()));
                return;
            }
            let slot = batch.len();
            if inputs.len() < (slot + 1) * item {
                inputs.resize((slot + 1) * item, 0.0);
            }
            let started = Instant::now();
            spectrogram.model_input_into(segment.samples, &mut inputs[slot * item..(slot + 1) * item]);
            times.mel += started.elapsed();
            on_mel(MelSegment {
                params,
                start_s: pending.start_s,
                end_s: pending.end_s,
                db: &inputs[slot * item..(slot + 1) * item],
            });
            batch.push(pending);
        };
        match samples {
            Some(samples) => self.segmenter.push(samples, &mut accept),
            None => self.segmenter.finish(&mut accept),
        }
        if self.batch.len() >= self.batch_size { self.run_batch(times) } else { Ok(()) }
    }

    fn run_batch(&mut self, times: &mut StageTimes) -> Result<(), ModelError> {
        let count = self.batch.len();
        if count == 0 {
            return Ok(());
        }
        let started = Instant::now();
        if let Some(backbone) = &self.backbone {
            self.embeddings.clear();
            backbone
                .runner()
                .run_into(&self.inputs, count, &mut self.embeddings)
                .map_err(|e| runner_error(&format!("backbone {}", backbone.file()), e))?;
        }
        let mut labels: Vec<Vec<(usize, SegmentLabel)>> = vec![Vec::new(); count];
        for (t, state) in self.tasks.iter_mut().enumerate() {
            self.probabilities.clear();
            let inputs = match (&self.backbone, state.bundle.backbone()) {
                (Some(backbone), Some((_, ranges))) => {
                    self.head_inputs.clear();
                    for row in self.embeddings.chunks_exact(backbone.width()) {
                        ranges.iter().for_each(|r| self.head_inputs.extend_from_slice(&row[r.clone()]));
                    }
                    &self.head_inputs
                }
                _ => &self.inputs,
            };
            let runner = state.bundle.runner();
            runner
                .probabilities(inputs, count, state.bundle.sidecar.activation, &mut self.probabilities)
                .map_err(|e| runner_error(state.bundle.task(), e))?;
            for (i, row) in self.probabilities.chunks_exact(runner.outputs()).enumerate() {
                state.mean.add(row);
                let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(j, _)| j);
                labels[i]
                    .push((t, SegmentLabel { label: state.bundle.sidecar.labels[best].clone(), score: row[best] }));
            }
        }
        times.inference += started.elapsed();
        self.timeline.extend(self.batch.drain(..).zip(labels));
        Ok(())
    }
}
