//! Loudness per EBU R128 (the `ebur128` crate) over the file's own channels: integrated loudness,
//! loudness range, sample peak and true peak.

use ebur128::{EbuR128, Mode};

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
    meter: Option<EbuR128>,
    rate: u32,
    channels: usize,
    /// Set when the stream changed its channel count or the meter refused the format.
    unmeasurable: bool,
}

impl LoudnessMeter {
    /// Forgets the track so far; the next track plays at `rate` Hz.
    pub fn reset(&mut self, rate: u32) {
        self.meter = None;
        self.rate = rate;
        self.channels = 0;
        self.unmeasurable = false;
    }

    /// Adds interleaved samples of `channels` channels.
    pub fn push(&mut self, interleaved: &[f32], channels: usize) {
        if self.unmeasurable {
            return;
        }
        if self.meter.is_none() {
            let mode = Mode::I | Mode::LRA | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK;
            self.meter = EbuR128::new(channels as u32, self.rate, mode).ok();
            self.channels = channels;
        }
        match self.meter.as_mut() {
            Some(meter) if channels == self.channels => {
                self.unmeasurable = meter.add_frames_f32(interleaved).is_err();
            }
            _ => self.unmeasurable = true,
        }
    }

    /// The readings so far.
    pub fn readings(&self) -> Loudness {
        let Some(meter) = self.meter.as_ref().filter(|_| !self.unmeasurable) else { return Loudness::default() };
        let finite = |v: Result<f64, ebur128::Error>| v.ok().filter(|v| v.is_finite());
        let peak = |read: &dyn Fn(u32) -> Result<f64, ebur128::Error>| {
            let linear = (0..self.channels as u32).filter_map(|c| read(c).ok()).fold(0.0f64, f64::max);
            (linear > 0.0).then(|| 20.0 * linear.log10())
        };
        Loudness {
            integrated_lufs: finite(meter.loudness_global()),
            range_lu: finite(meter.loudness_range()),
            sample_peak_dbfs: peak(&|c| meter.sample_peak(c)),
            true_peak_dbtp: peak(&|c| meter.true_peak(c)),
        }
    }
}
