//! Loudness per EBU R128 over the file's own channels: integrated loudness and loudness range
//! ([`R128Meter`]), sample peak and true peak ([`PeakMeter`]): the `ebur128` crate's values,
//! computed faster.

use super::r128::R128Meter;
use super::true_peak::PeakMeter;

/// The meter's readings for one track; `None` where EBU R128 gives no value (e.g. silence).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loudness {
    /// Integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU.
    pub range_lu: Option<f64>,
    /// Highest sample, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Highest inter-sample peak (4× oversampled), dBTP.
    pub true_peak_dbtp: Option<f64>,
}

/// Measures a stream whose channel count is learnt from its first packet.
#[derive(Default)]
pub struct LoudnessMeter {
    /// Loudness and peaks, made at the first packet.
    meters: Option<(R128Meter, PeakMeter)>,
    rate: u32,
    channels: usize,
    /// Set when the stream changed its channel count or the meter refused the format.
    unmeasurable: bool,
}

impl LoudnessMeter {
    /// Forgets the track so far; the next track plays at `rate` Hz.
    pub fn reset(&mut self, rate: u32) {
        self.meters = None;
        self.rate = rate;
        self.channels = 0;
        self.unmeasurable = false;
    }

    /// Adds interleaved samples of `channels` channels.
    pub fn push(&mut self, interleaved: &[f32], channels: usize) {
        if self.unmeasurable {
            return;
        }
        if self.meters.is_none() && channels > 0 && self.rate > 0 {
            self.meters = Some((R128Meter::new(self.rate, channels), PeakMeter::new(self.rate, channels)));
            self.channels = channels;
        }
        match self.meters.as_mut() {
            Some((meter, peaks)) if channels == self.channels => {
                meter.push(interleaved);
                peaks.push(interleaved);
            }
            _ => self.unmeasurable = true,
        }
    }

    /// The readings so far.
    pub fn readings(&self) -> Loudness {
        let Some((meter, peaks)) = self.meters.as_ref().filter(|_| !self.unmeasurable) else {
            return Loudness::default();
        };
        let finite = |v: f64| Some(v).filter(|v| v.is_finite());
        let decibels = |per_channel: &[f32]| {
            let linear = per_channel.iter().fold(0.0f64, |m, &p| m.max(p as f64));
            (linear > 0.0).then(|| 20.0 * linear.log10())
        };
        Loudness {
            integrated_lufs: finite(meter.integrated_lufs()),
            range_lu: finite(meter.range_lu()),
            sample_peak_dbfs: decibels(peaks.sample_peaks()),
            true_peak_dbtp: decibels(&peaks.true_peaks()),
        }
    }
}
