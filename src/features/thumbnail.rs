//! A small picture of a track's log-mel spectrogram, built segment by segment from the model
//! inputs the analysis computes anyway (the browser app draws it on a canvas).

use super::params::FeatureParams;

/// Dynamic range shown, in dB below each segment's loudest bin.
const RANGE_DB: f32 = 80.0;

/// A `rows × columns` intensity image of a track, `columns_per_second` columns per second,
/// row 0 the highest mel band. Pixels are 0 (silent or `RANGE_DB` below the segment's loudest
/// bin) to 255 (loudest). Parts of the track no segment covered stay 0.
#[derive(Debug, Clone, PartialEq)]
pub struct MelThumbnail {
    rows: usize,
    columns_per_second: f64,
    /// Column-major: column `c` is `pixels[c * rows..(c + 1) * rows]`.
    pixels: Vec<u8>,
}

impl MelThumbnail {
    /// An empty image of `rows` rows (at least 1) and `columns_per_second` columns per second.
    pub fn new(rows: usize, columns_per_second: f64) -> Self {
        Self { rows: rows.max(1), columns_per_second: columns_per_second.max(0.01), pixels: Vec::new() }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns so far.
    pub fn columns(&self) -> usize {
        self.pixels.len() / self.rows
    }

    /// Columns per second of audio.
    pub fn columns_per_second(&self) -> f64 {
        self.columns_per_second
    }

    /// Paints one segment: `db` is its row-major `[n_mels][frames]` log-mel spectrogram (as
    /// computed with `params`), covering `start_s`..`end_s` of the track.
    pub fn add(&mut self, params: &FeatureParams, start_s: f64, end_s: f64, db: &[f32]) {
        let frames = params.frames();
        let n_mels = params.n_mels;
        if frames == 0 || n_mels == 0 || db.len() < n_mels * frames || end_s <= start_s {
            return;
        }
        let loudest = db[..n_mels * frames].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let floor = loudest - RANGE_DB;
        let frames_per_second = params.sample_rate as f64 / params.hop_length as f64;
        let first = (start_s * self.columns_per_second).ceil() as usize;
        let end = (end_s * self.columns_per_second).ceil() as usize;
        if self.columns() < end {
            self.pixels.resize(end * self.rows, 0);
        }
        for column in first..end {
            let t = column as f64 / self.columns_per_second - start_s;
            let frame = ((t * frames_per_second).round() as usize).min(frames - 1);
            for row in 0..self.rows {
                // Row 0 is the top of the picture: the highest bands.
                let band_lo = (self.rows - 1 - row) * n_mels / self.rows;
                let band_hi = ((self.rows - row) * n_mels / self.rows).max(band_lo + 1).min(n_mels);
                let value = (band_lo..band_hi).map(|m| db[m * frames + frame]).fold(f32::NEG_INFINITY, f32::max);
                let level = ((value - floor) / RANGE_DB).clamp(0.0, 1.0);
                self.pixels[column * self.rows + row] = (level * 255.0).round() as u8;
            }
        }
    }

    /// The image row-major (`rows` rows of `columns()` pixels), ready to draw.
    pub fn to_row_major(&self) -> Vec<u8> {
        let columns = self.columns();
        let mut out = vec![0; self.rows * columns];
        for (c, column) in self.pixels.chunks_exact(self.rows).enumerate() {
            for (r, &v) in column.iter().enumerate() {
                out[r * columns + c] = v;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> FeatureParams {
        // 4 mel bands, 1 s segments of 10 frames (hop 0.1 s).
        FeatureParams {
            sample_rate: 1000,
            n_fft: 64,
            hop_length: 100,
            n_mels: 4,
            fmax: 500.0,
            segment_seconds: 1.0,
            segment_hop_seconds: 1.0,
            ..FeatureParams::default()
        }
    }

    #[test]
    fn paints_segments_where_they_are_with_high_bands_on_top() {
        let p = params();
        let frames = p.frames();
        // Band 3 (highest) loud (0 dB), band 0 at the floor (-80 dB), the rest in between.
        let mut db = vec![0.0f32; 4 * frames];
        for t in 0..frames {
            db[t] = -80.0;
            db[frames + t] = -40.0;
            db[2 * frames + t] = -20.0;
            db[3 * frames + t] = 0.0;
        }
        let mut image = MelThumbnail::new(4, 10.0);
        image.add(&p, 1.0, 2.0, &db);
        assert_eq!(image.columns(), 20);
        let pixels = image.to_row_major();
        // Columns 0..10 (the first second) were never painted.
        assert!(pixels[..10].iter().all(|&v| v == 0));
        let column = |c: usize| (0..4).map(|r| pixels[r * 20 + c]).collect::<Vec<_>>();
        assert_eq!(column(10), vec![255, 191, 128, 0]);
        assert_eq!(column(19), column(10));
    }

    #[test]
    fn ignores_inputs_that_do_not_fit() {
        let mut image = MelThumbnail::new(2, 10.0);
        image.add(&params(), 0.0, 1.0, &[0.0; 3]);
        image.add(&params(), 1.0, 1.0, &vec![0.0; 4 * params().frames()]);
        assert_eq!(image.columns(), 0);
        assert!(image.to_row_major().is_empty());
    }
}
