//! Chroma: how much of each of the 12 pitch classes a spectrum holds (`librosa.filters.chroma`
//! weights, A = 440 Hz), averaged over a track with every frame scaled to its strongest class.

/// Pitch classes per octave.
pub const CLASSES: usize = 12;
/// Octave the weights centre on (librosa's `ctroct`) and their spread in octaves (`octwidth`).
const CENTRE_OCTAVE: f64 = 5.0;
const OCTAVE_WIDTH: f64 = 2.0;

/// Maps power spectra to chroma and keeps the running sum of frame-normalised chroma.
pub struct ChromaAccumulator {
    /// `CLASSES` weights per spectrum bin (bin-major, class 0 = C): a frame is one pass over
    /// the spectrum adding into 12 independent sums, which vectorises.
    weights: Vec<[f32; CLASSES]>,
    frame: [f32; CLASSES],
    sum: [f64; CLASSES],
}

impl ChromaAccumulator {
    /// Weights for an `n_fft`-point spectrum at `sample_rate`, as librosa builds them.
    pub fn new(sample_rate: u32, n_fft: usize) -> Self {
        let n = CLASSES as f64;
        // Position of every FFT bin in pitch-class units (A0 = 27.5 Hz is 0); bin 0 sits 1.5 octaves below bin 1.
        let mut position: Vec<f64> =
            (1..n_fft).map(|k| n * (k as f64 * sample_rate as f64 / n_fft as f64 / 27.5).log2()).collect();
        position.insert(0, position[0] - 1.5 * n);
        let width: Vec<f64> =
            (0..n_fft).map(|k| if k + 1 < n_fft { (position[k + 1] - position[k]).max(1.0) } else { 1.0 }).collect();
        let mut dense = vec![0.0f64; CLASSES * n_fft];
        for k in 0..n_fft {
            let mut column = [0.0f64; CLASSES];
            for (c, value) in column.iter_mut().enumerate() {
                let half = (n / 2.0).round();
                let distance = (position[k] - c as f64 + half + 10.0 * n).rem_euclid(n) - half;
                *value = (-0.5 * (2.0 * distance / width[k]).powi(2)).exp();
            }
            let norm = column.iter().map(|v| v * v).sum::<f64>().sqrt();
            let octave = (-0.5 * ((position[k] / n - CENTRE_OCTAVE) / OCTAVE_WIDTH).powi(2)).exp();
            for (c, value) in column.iter().enumerate() {
                // librosa counts classes from A; rolling by 3 starts them at C.
                let from_c = (c + CLASSES - 3) % CLASSES;
                dense[from_c * n_fft + k] = value / norm * octave;
            }
        }
        let bins = n_fft / 2 + 1;
        let weights = (0..bins).map(|k| std::array::from_fn(|c| dense[c * n_fft + k] as f32)).collect();
        Self { weights, frame: [0.0; CLASSES], sum: [0.0; CLASSES] }
    }

    /// Forgets the track so far.
    pub fn reset(&mut self) {
        self.sum = [0.0; CLASSES];
    }

    /// Adds one power spectrum.
    pub fn push(&mut self, power: &[f32]) {
        self.frame = [0.0; CLASSES];
        for (column, &p) in self.weights.iter().zip(power) {
            for (slot, w) in self.frame.iter_mut().zip(column) {
                *slot += w * p;
            }
        }
        let peak = self.frame.iter().copied().fold(0.0f32, f32::max);
        if peak > f32::MIN_POSITIVE {
            self.sum.iter_mut().zip(&self.frame).for_each(|(s, v)| *s += (v / peak) as f64);
        }
    }

    /// The summed chroma, C first (scale does not matter to key finding).
    pub fn profile(&self) -> [f64; CLASSES] {
        self.sum
    }
}
