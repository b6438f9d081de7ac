//! Energy and danceability: two simple 0–1 scores built from the other descriptors (their
//! definitions are in README.md, "Descriptors").

/// Integrated loudness that scores 0 and 1 in the level part of energy.
const QUIET_LUFS: f64 = -40.0;
const LOUD_LUFS: f64 = -8.0;
/// Mean onset strength (dB of rise per frame, median over bands) that scores 1 in activity.
const BUSY_ONSET: f64 = 2.0;
/// Width, in octaves, of the tempo preference around 120 BPM.
const TEMPO_OCTAVES: f64 = 0.6;
/// Ratio of onset strength on beats to the mean onset strength that scores 1 in beat strength.
const STRONG_BEATS: f64 = 4.0;

fn unit(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

/// Energy: 0.6 · loudness level + 0.4 · onset activity.
pub fn energy(integrated_lufs: Option<f64>, mean_onset: f64) -> f64 {
    let level = integrated_lufs.map_or(0.0, |l| unit((l - QUIET_LUFS) / (LOUD_LUFS - QUIET_LUFS)));
    let activity = unit(mean_onset / BUSY_ONSET);
    0.6 * level + 0.4 * activity
}

/// Danceability: 0.5 · pulse clarity + 0.3 · beat strength + 0.2 · tempo preference
/// (all zero without a tempo).
pub fn danceability(pulse_clarity: f64, beat_to_mean_onset: f64, bpm: Option<f64>) -> f64 {
    let Some(bpm) = bpm else { return 0.0 };
    let octaves = (bpm / 120.0).log2() / TEMPO_OCTAVES;
    let tempo = (-0.5 * octaves * octaves).exp();
    let strength = unit((beat_to_mean_onset - 1.0) / (STRONG_BEATS - 1.0));
    0.5 * unit(pulse_clarity) + 0.3 * strength + 0.2 * tempo
}
