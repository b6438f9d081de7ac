//! Key and mode from a chroma profile: the best correlation with Temperley's key profiles rotated
//! to each of the 12 tonics, major and minor.

use super::chroma::CLASSES;

/// Temperley (1999, "What's key for key?") major-key profile, tonic first. Krumhansl–Kessler's
/// profiles rank a bare major triad below the minor key on its third (C–E–G as E minor) once
/// chroma weighs its upper notes more; these keep the triad's own key.
const MAJOR: [f64; CLASSES] = [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0];
/// Temperley (1999) minor-key profile, tonic first.
const MINOR: [f64; CLASSES] = [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0];
/// Pitch-class names, C first (sharps).
pub const TONICS: [&str; CLASSES] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/// Major or minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Major key.
    Major,
    /// Minor key.
    Minor,
}

/// A key estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    /// Tonic pitch class, 0 = C.
    pub tonic: usize,
    /// Major or minor.
    pub mode: Mode,
    /// Pearson correlation of the chroma with the key's profile (−1 to 1).
    pub correlation: f64,
}

impl Key {
    /// "C major", "F# minor".
    pub fn name(&self) -> String {
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        format!("{} {mode}", TONICS[self.tonic])
    }
}

/// The best-correlated key, `None` for a flat profile (silence, or every class equally present).
pub fn estimate(chroma: &[f64; CLASSES]) -> Option<Key> {
    let mut best: Option<Key> = None;
    for (mode, profile) in [(Mode::Major, &MAJOR), (Mode::Minor, &MINOR)] {
        for tonic in 0..CLASSES {
            let rotated: [f64; CLASSES] = std::array::from_fn(|c| profile[(c + CLASSES - tonic) % CLASSES]);
            let correlation = pearson(chroma, &rotated)?;
            if best.is_none_or(|b| correlation > b.correlation) {
                best = Some(Key { tonic, mode, correlation });
            }
        }
    }
    best
}

fn pearson(a: &[f64; CLASSES], b: &[f64; CLASSES]) -> Option<f64> {
    let mean = |x: &[f64; CLASSES]| x.iter().sum::<f64>() / CLASSES as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    let denominator = (aa * bb).sqrt();
    (denominator > 1e-12 * (1.0 + ma.abs())).then(|| ab / denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_find_themselves_in_every_key() {
        for tonic in 0..CLASSES {
            for (mode, profile) in [(Mode::Major, &MAJOR), (Mode::Minor, &MINOR)] {
                let chroma: [f64; CLASSES] = std::array::from_fn(|c| profile[(c + CLASSES - tonic) % CLASSES]);
                let key = estimate(&chroma).unwrap();
                assert_eq!((key.tonic, key.mode), (tonic, mode));
                assert!((key.correlation - 1.0).abs() < 1e-9);
            }
        }
        assert_eq!(estimate(&[1.0; CLASSES]), None);
        assert_eq!(Key { tonic: 6, mode: Mode::Minor, correlation: 0.5 }.name(), "F# minor");
    }
}
