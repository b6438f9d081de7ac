//! The track's tempo from its mean tempogram: librosa's choice of lag (a log-normal prior of one
//! octave around 120 BPM, nothing from 320 BPM up), except that a pulse twice as fast wins over
//! the prior when the envelope repeats at it at least as strongly and its beats are evenly
//! accented (clicks at 200 BPM; not rock at 100 BPM with hi-hat eighths, whose beats alternate
//! strong and weak); then the peak is refined between lags.

/// Centre of the tempo prior (librosa's `start_bpm`).
pub const START_BPM: f64 = 120.0;
/// Width of the prior, in octaves (librosa's `std_bpm`).
const PRIOR_OCTAVES: f64 = 1.0;
/// Tempi from here up are not considered (librosa's `max_tempo`).
pub const MAX_BPM: f64 = 320.0;

/// A tempo found in a tempogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoPeak {
    /// Frames per beat, between lags.
    pub lag: f64,
    /// Beats per minute.
    pub bpm: f64,
    /// Pulse clarity: how far the tempogram's peak stands above its median over the tempo range
    /// (near 1 for a click track, near 0 for a steady tone or noise, whose onsets do not repeat).
    pub strength: f32,
}

/// Beats per minute of a lag in frames.
fn bpm(lag: f64, frame_rate: f64) -> f64 {
    60.0 * frame_rate / lag
}

/// The smallest lag below the tempo limit.
fn min_lag(frame_rate: f64) -> usize {
    (60.0 * frame_rate / MAX_BPM).floor() as usize + 1
}

/// librosa's lag: the maximum of `ln(1 + 10⁶·tempogram) + log prior`.
pub fn librosa_lag(tempogram: &[f32], frame_rate: f64) -> Option<usize> {
    let score = |k: usize| {
        let octaves = (bpm(k as f64, frame_rate) / START_BPM).log2() / PRIOR_OCTAVES;
        (1e6 * tempogram[k] as f64).ln_1p() - 0.5 * octaves * octaves
    };
    (min_lag(frame_rate)..tempogram.len()).max_by(|&a, &b| score(a).total_cmp(&score(b)))
}

/// Pulse clarity below which a track is said to have no tempo.
pub const MIN_STRENGTH: f32 = 0.1;

/// Fastest tempo the faster-octave rule may reach (a pulse above it is heard at half speed).
const MAX_FASTER_BPM: f64 = 210.0;

/// Largest ratio between the mean onset strength of even and odd beats of an evenly accented pulse.
const EVEN_ACCENTS: f32 = 1.25;

/// The tempo of the mean `tempogram` of `envelope`, `None` when no pulse stands out (silence, a
/// steady tone, noise).
pub fn estimate(tempogram: &[f32], envelope: &[f32], frame_rate: f64) -> Option<TempoPeak> {
    let first = min_lag(frame_rate);
    if first >= tempogram.len() {
        return None;
    }
    let mut lag = librosa_lag(tempogram, frame_rate)?;
    // The prior decides between octaves only when the envelope does not.
    loop {
        let half = (lag as f64 / 2.0).round() as usize;
        if half < first
            || bpm(half as f64, frame_rate) > MAX_FASTER_BPM
            || area(tempogram, half) < area(tempogram, lag)
            || !evenly_accented(envelope, half)
        {
            break;
        }
        lag = (half - 1..=half + 1).max_by(|&a, &b| tempogram[a].total_cmp(&tempogram[b])).unwrap_or(half);
    }
    let strength = tempogram[lag] - median(&tempogram[first..]);
    let refined = lag as f64 + parabolic_offset(tempogram, lag);
    (strength >= MIN_STRENGTH).then(|| TempoPeak { lag: refined, bpm: bpm(refined, frame_rate), strength })
}

/// Whether beats tracked `period` frames apart are as strong on even as on odd counts.
fn evenly_accented(envelope: &[f32], period: usize) -> bool {
    let beats = super::beats::track(envelope, period);
    if beats.len() < 8 {
        return false;
    }
    let mut sums = [0.0f32; 2];
    for (i, &b) in beats.iter().enumerate() {
        // The strongest onset within two frames: a beat lands on its onset to a frame or so.
        sums[i % 2] += envelope[b.saturating_sub(2)..(b + 3).min(envelope.len())].iter().copied().fold(0.0, f32::max);
    }
    let (strong, weak) = (sums[0].max(sums[1]), sums[0].min(sums[1]));
    weak > 0.0 && strong / weak <= EVEN_ACCENTS
}

fn median(values: &[f32]) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[sorted.len() / 2]
}

/// The tempogram summed within two lags of `lag` (a peak between lags, or a beat that wavers by a
/// frame, spreads its height over neighbours).
fn area(tempogram: &[f32], lag: usize) -> f32 {
    tempogram[lag.saturating_sub(2)..(lag + 3).min(tempogram.len())].iter().sum()
}

/// Where the parabola through a peak and its neighbours peaks, relative to the peak (±0.5).
fn parabolic_offset(values: &[f32], k: usize) -> f64 {
    if k == 0 || k + 1 >= values.len() {
        return 0.0;
    }
    let (a, b, c) = (values[k - 1] as f64, values[k] as f64, values[k + 1] as f64);
    let curvature = a - 2.0 * b + c;
    if curvature >= 0.0 { 0.0 } else { (0.5 * (a - c) / curvature).clamp(-0.5, 0.5) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = crate::descriptors::SAMPLE_RATE as f64 / crate::descriptors::HOP as f64;

    fn comb(period: f64, lags: usize, decay: f32) -> Vec<f32> {
        (0..lags)
            .map(|k| {
                let phase = k as f64 / period;
                let distance = (phase - phase.round()).abs() * period;
                if distance < 1.0 { (1.0 - distance as f32) * (1.0 - decay * k as f32 / lags as f32) } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn the_prior_breaks_ties_but_a_stronger_faster_pulse_wins() {
        // A pulse at 200 BPM (12.92 frames): every multiple repeats it, slightly weaker with lag.
        let period = 60.0 * RATE / 200.0;
        let fast = comb(period, 344, 0.3);
        let clicks: Vec<f32> = (0..2000).map(|t| if (t as f64 % period) < 1.0 { 1.0 } else { 0.0 }).collect();
        let peak = estimate(&fast, &clicks, RATE).unwrap();
        assert!((peak.bpm - 200.0).abs() < 4.0, "{peak:?}");
        // librosa alone picks the half tempo (its prior prefers 100 BPM).
        let k = librosa_lag(&fast, RATE).unwrap();
        assert!((bpm(k as f64, RATE) - 100.0).abs() < 5.0, "{}", bpm(k as f64, RATE));
    }

    #[test]
    fn silence_has_no_tempo() {
        assert_eq!(estimate(&vec![0.0; 344], &vec![0.0; 2000], RATE), None);
    }
}
