//! A music-like test signal for the descriptors' unit tests (meters checked against `ebur128`).

/// Stereo music-like signal: decaying chords, clicks, noise, and a loud burst late in the
/// track (the peak so far keeps rising, so skipping must never miss it).
pub fn music_like(rate: u32, channels: usize, seconds: f32) -> Vec<f32> {
    let frames = (rate as f32 * seconds) as usize;
    let mut seed = 7u32;
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f32 / rate as f32;
        let beat = t % 0.5;
        let loud = if t > seconds * 0.8 { 1.6 } else { 1.0 + 0.3 * (t / seconds) };
        for c in 0..channels {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let tone = [220.0, 277.2, 329.6]
                .iter()
                .map(|f| (std::f32::consts::TAU * f * (c + 1) as f32 * t).sin())
                .sum::<f32>();
            let click = (-beat / 0.001).exp() * (std::f32::consts::TAU * rate as f32 / 4.1 * t).sin();
            out.push(loud * (0.18 * tone * (-3.0 * beat).exp() + 0.3 * click + 0.02 * noise));
        }
    }
    out
}
