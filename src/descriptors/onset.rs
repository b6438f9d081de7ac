//! Onset strength, frame by frame, as `librosa.onset.onset_strength` computes it: the mean over
//! 128 mel bands of the positive change in decibels from one frame to the next.

use crate::features::mel::{AMIN, MelFilterbank};

/// Mel bands of the onset detector (librosa's default).
const BANDS: usize = 128;
/// Dynamic range kept below the loudest band so far (librosa's `top_db`, applied as the stream goes).
const TOP_DB: f32 = 80.0;
/// Frames of leading zeros librosa adds: the lag (1) plus half a window of centering (`n_fft / (2 hop)`).
const LEADING_ZEROS: usize = 3;

/// Builds a track's onset envelope from its power spectra.
pub struct OnsetDetector {
    filterbank: MelFilterbank,
    current: Vec<f32>,
    previous: Vec<f32>,
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
            max_db: f32::NEG_INFINITY,
            frames: 0,
            envelope: Vec::new(),
        };
        detector.reset();
        detector
    }

    /// Forgets the track so far.
    pub fn reset(&mut self) {
        self.max_db = f32::NEG_INFINITY;
        self.frames = 0;
        self.envelope.clear();
        self.envelope.resize(LEADING_ZEROS, 0.0);
    }

    /// Adds one frame's power spectrum.
    pub fn push(&mut self, power: &[f32]) {
        self.filterbank.apply(power, &mut self.current, 1);
        for v in &mut self.current {
            *v = 10.0 * v.max(AMIN).log10();
            self.max_db = self.max_db.max(*v);
        }
        let floor = self.max_db - TOP_DB;
        self.current.iter_mut().for_each(|v| *v = v.max(floor));
        if self.frames > 0 {
            let rise: f32 = self.current.iter().zip(&self.previous).map(|(c, p)| (c - p.max(floor)).max(0.0)).sum();
            self.envelope.push(rise / BANDS as f32);
        }
        std::mem::swap(&mut self.current, &mut self.previous);
        self.frames += 1;
    }

    /// The envelope, one value per frame (aligned with the frames, as librosa aligns it).
    pub fn envelope(&mut self) -> &[f32] {
        self.envelope.truncate(self.frames);
        &self.envelope
    }
}
