//! Beat positions from an onset envelope and a tempo: Ellis' dynamic programming beat tracker
//! as `librosa.beat.beat_track` runs it (tightness 100, weak leading and trailing beats trimmed).

/// How strongly beats keep to the tempo (librosa's `tightness`).
const TIGHTNESS: f64 = 100.0;

/// Frames of the beats in `envelope`, given `period` frames per beat.
pub fn track(envelope: &[f32], period: usize) -> Vec<usize> {
    if period == 0 || envelope.len() < 2 || envelope.iter().all(|&v| v == 0.0) {
        return Vec::new();
    }
    let score = local_score(&normalized(envelope), period);
    let (backlink, cumulative) = dynamic_program(&score, period);
    let mut beats = Vec::new();
    let mut at = last_beat(&cumulative) as isize;
    while at >= 0 {
        beats.push(at as usize);
        at = backlink[at as usize];
    }
    beats.reverse();
    trim(&score, beats)
}

/// The envelope divided by its standard deviation (`ddof = 1`).
fn normalized(envelope: &[f32]) -> Vec<f64> {
    let n = envelope.len() as f64;
    let mean = envelope.iter().map(|&v| v as f64).sum::<f64>() / n;
    let variance = envelope.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let norm = variance.sqrt() + f64::MIN_POSITIVE;
    envelope.iter().map(|&v| v as f64 / norm).collect()
}

/// The envelope smoothed by a Gaussian a beat wide (librosa's same-mode convolution, bounds included).
fn local_score(envelope: &[f64], period: usize) -> Vec<f64> {
    let p = period as f64;
    let window: Vec<f64> = (0..=2 * period).map(|k| (-0.5 * ((k as f64 - p) * 32.0 / p).powi(2)).exp()).collect();
    let (n, width) = (envelope.len(), window.len());
    let half = width / 2;
    (0..n)
        .map(|i| {
            let from = (i + half + 1).saturating_sub(n);
            let to = (i + half).min(width);
            (from..to).map(|k| window[k] * envelope[i + half - k]).sum()
        })
        .collect()
}

/// For every frame, the best previous beat (-1 for none) and the best cumulative score.
fn dynamic_program(score: &[f64], period: usize) -> (Vec<isize>, Vec<f64>) {
    let n = score.len();
    let threshold = 0.01 * score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut backlink, mut cumulative) = (vec![-1isize; n], vec![0.0; n]);
    let log_period = (period as f64).ln();
    let nearest = (period as f64 / 2.0).round() as isize;
    let mut first_beat = true;
    for i in 0..n {
        let mut best = (f64::NEG_INFINITY, -1isize);
        let mut at = i as isize - nearest;
        while at >= i as isize - 2 * period as isize && at >= 0 {
            let gap = (i as isize - at) as f64;
            let candidate = cumulative[at as usize] - TIGHTNESS * (gap.ln() - log_period).powi(2);
            if candidate > best.0 {
                best = (candidate, at);
            }
            at -= 1;
        }
        cumulative[i] = score[i] + if best.1 >= 0 { best.0 } else { 0.0 };
        if first_beat && score[i] < threshold {
            backlink[i] = -1;
        } else {
            backlink[i] = best.1;
            first_beat = false;
        }
    }
    (backlink, cumulative)
}

/// The last local maximum of the cumulative score reaching half the median of all local maxima.
fn last_beat(cumulative: &[f64]) -> usize {
    let n = cumulative.len();
    let is_max = |i: usize| {
        let previous = cumulative[i.saturating_sub(1)];
        let next = cumulative[(i + 1).min(n - 1)];
        cumulative[i] > previous && cumulative[i] >= next
    };
    let mut maxima: Vec<f64> = (0..n).filter(|&i| is_max(i)).map(|i| cumulative[i]).collect();
    if maxima.is_empty() {
        return n - 1;
    }
    maxima.sort_by(f64::total_cmp);
    let middle = maxima.len() / 2;
    let median = if maxima.len() % 2 == 1 { maxima[middle] } else { 0.5 * (maxima[middle - 1] + maxima[middle]) };
    (0..n).rev().find(|&i| is_max(i) && cumulative[i] >= 0.5 * median).unwrap_or(n - 1)
}

/// Drops leading and trailing beats whose local score is at most half the RMS of the smoothed
/// beat envelope.
fn trim(score: &[f64], beats: Vec<usize>) -> Vec<usize> {
    if beats.is_empty() {
        return beats;
    }
    let hann = [0.0, 0.5, 1.0, 0.5, 0.0];
    let at_beats: Vec<f64> = beats.iter().map(|&b| score[b]).collect();
    // librosa slices the full convolution from index 2 to the score's length (past its end).
    let full: Vec<f64> = (0..at_beats.len() + hann.len() - 1)
        .map(|i| (0..hann.len()).filter(|&k| i >= k && i - k < at_beats.len()).map(|k| hann[k] * at_beats[i - k]).sum())
        .collect();
    let smooth = &full[2.min(full.len())..(score.len() + 2).min(full.len())];
    let threshold = 0.5 * (smooth.iter().map(|v| v * v).sum::<f64>() / smooth.len() as f64).sqrt();
    let first = score.iter().position(|&v| v > threshold).unwrap_or(score.len());
    let last = score.iter().rposition(|&v| v > threshold).unwrap_or(0);
    beats.into_iter().filter(|&b| b >= first && b <= last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_land_on_a_regular_pulse() {
        let envelope: Vec<f32> = (0..1000).map(|t| if t % 21 == 5 { 1.0 } else { 0.02 }).collect();
        let beats = track(&envelope, 21);
        assert!(beats.len() >= 45, "{}", beats.len());
        assert!(beats.iter().all(|b| b % 21 == 5), "{beats:?}");
    }

    #[test]
    fn silence_has_no_beats() {
        assert!(track(&[0.0; 500], 21).is_empty());
    }
}
