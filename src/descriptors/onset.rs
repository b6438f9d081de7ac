//! Onset strength, frame by frame, as `librosa.beat.beat_track` computes it
//! (`onset_strength(aggregate=np.median)`): the median over 128 mel bands of the positive change
//! in decibels from one frame to the next.

use super::larger;
use crate::features::mel::{AMIN, MelFilterbank};

/// Mel bands of the onset detector (librosa's default).
const BANDS: usize = 128;
/// Dynamic range kept below the loudest band (librosa's `top_db`).
const TOP_DB: f32 = 80.0;
/// Frames of leading zeros librosa adds: the lag (1) plus half a window of centering (`n_fft / (2 hop)`).
const LEADING_ZEROS: usize = 3;
/// Frames held back at the start of a track (10 s at 43 frames per second) so that the `top_db`
/// floor of its first frames comes from a loudness maximum seen over a stretch of music, as
/// librosa's (over the whole track) does, not from a quiet first frame.
const LOOKAHEAD_FRAMES: usize = 431;

/// Builds a track's onset envelope from its power spectra.
pub struct OnsetDetector {
    filterbank: MelFilterbank,
    current: Vec<f32>,
    previous: Vec<f32>,
    rises: Vec<f32>,
    /// Decibel frames held back at the start of the track, one after another.
    held: Vec<f32>,
    holding: bool,
    max_db: f32,
    frames: usize,
    envelope: Vec<f32>,
}

impl OnsetDetector {
    /// A detector for spectra of an `n_fft`-point STFT at `sample_rate`.
    pub fn new(sample_rate: u32, n_fft: usize) -> Self {
        let mut detector = Self {
            filterbank: MelFilterbank::new(sample_rate, n_fft, BANDS, 0.0, sample_rate as f32 / 2.0),
            current: vec![0.0; BANDS],
            previous: vec![0.0; BANDS],
            rises: vec![0.0; BANDS],
            held: Vec::with_capacity(LOOKAHEAD_FRAMES * BANDS),
            holding: true,
            max_db: f32::NEG_INFINITY,
            frames: 0,
            envelope: Vec::new(),
        };
        detector.reset();
        detector
    }

    /// Forgets the track so far.
    pub fn reset(&mut self) {
        self.held.clear();
        self.holding = true;
        self.max_db = f32::NEG_INFINITY;
        self.frames = 0;
        self.envelope.clear();
        self.envelope.resize(LEADING_ZEROS, 0.0);
    }

    /// Adds one frame's power spectrum.
    pub fn push(&mut self, power: &[f32]) {
        self.filterbank.apply(power, &mut self.current, 1);
        for v in &mut self.current {
            *v = 10.0 * larger(AMIN, *v).log10();
            self.max_db = larger(self.max_db, *v);
        }
        if self.holding {
            self.held.extend_from_slice(&self.current);
            if self.held.len() == LOOKAHEAD_FRAMES * BANDS {
                self.release();
            }
        } else {
            let frame = std::mem::take(&mut self.current);
            self.rise(&frame);
            self.current = frame;
        }
    }

    /// The envelope, one value per frame (aligned with the frames, as librosa aligns it).
    pub fn envelope(&mut self) -> &[f32] {
        if self.holding {
            self.release();
        }
        self.envelope.truncate(self.frames);
        &self.envelope
    }

    /// Processes the held frames now that the loudness maximum of their stretch is known.
    fn release(&mut self) {
        self.holding = false;
        let held = std::mem::take(&mut self.held);
        held.chunks_exact(BANDS).for_each(|frame| self.rise(frame));
        self.held = held;
        self.held.clear();
    }

    /// Adds the onset strength of one decibel frame (before the `top_db` floor).
    fn rise(&mut self, frame: &[f32]) {
        let floor = self.max_db - TOP_DB;
        if self.frames > 0 {
            for ((r, c), p) in self.rises.iter_mut().zip(frame).zip(&self.previous) {
                *r = larger(0.0, larger(floor, *c) - larger(floor, *p));
            }
            self.envelope.push(median(&mut self.rises));
        }
        self.previous.copy_from_slice(frame);
        self.frames += 1;
    }
}

/// The median of an even number of values (the mean of the middle two, as numpy's), reordering them.
fn median(values: &mut [f32]) -> f32 {
    let middle = values.len() / 2;
    let (below, upper, _) = values.select_nth_unstable_by(middle, f32::total_cmp);
    let lower = below.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    0.5 * (lower + *upper)
}
