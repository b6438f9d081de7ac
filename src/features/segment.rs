//! Cuts a stream of samples into fixed-length segments (5 s by default), padding the tail.

/// Peak level below which a segment counts as digital silence (under one 16-bit step).
pub const SILENCE_PEAK: f32 = 1.0 / 32_768.0;

/// One segment handed out by the [`Segmenter`].
#[derive(Debug)]
pub struct Segment<'a> {
    /// Position of the segment in the track, from 0.
    pub index: usize,
    /// First sample of the segment, counted from the start of the track.
    pub start_sample: usize,
    /// Samples of real audio in the segment (the rest is zero padding).
    pub valid_samples: usize,
    /// Exactly one segment length of samples, zero padded at the end when needed.
    pub samples: &'a [f32],
    /// Whether every real sample is digital silence.
    pub silent: bool,
}

/// Streaming segmenter: push samples in any chunk size, get whole segments back.
pub struct Segmenter {
    length: usize,
    hop: usize,
    buffer: Vec<f32>,
    padded: Vec<f32>,
    next_start: usize,
    emitted: usize,
    /// Samples still to drop before the next segment starts (when the hop exceeds the length).
    to_skip: usize,
}

impl Segmenter {
    /// A segmenter of `length` samples per segment and `hop` samples between starts (a hop longer
    /// than the segment leaves the samples between them out).
    pub fn new(length: usize, hop: usize) -> Self {
        let hop = hop.max(1);
        Self {
            length,
            hop,
            buffer: Vec::with_capacity(2 * length),
            padded: vec![0.0; length],
            next_start: 0,
            emitted: 0,
            to_skip: 0,
        }
    }

    /// Adds samples; calls `on_segment` for every segment completed by them.
    pub fn push(&mut self, samples: &[f32], mut on_segment: impl FnMut(Segment<'_>)) {
        let mut rest = samples;
        while !rest.is_empty() {
            if self.to_skip > 0 {
                let skip = self.to_skip.min(rest.len());
                self.to_skip -= skip;
                rest = &rest[skip..];
                continue;
            }
            let take = (self.length - self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() >= self.length {
                on_segment(self.whole());
                self.advance();
            }
        }
    }

    /// Ends the stream: emits the padded tail if it holds at least half a segment of new audio,
    /// or if the whole stream was shorter than one segment.
    pub fn finish(&mut self, mut on_segment: impl FnMut(Segment<'_>)) {
        let overlap = if self.emitted > 0 { self.length.saturating_sub(self.hop) } else { 0 };
        let fresh = self.buffer.len().saturating_sub(overlap);
        let keep = if self.emitted == 0 { !self.buffer.is_empty() } else { fresh * 2 >= self.length };
        if keep {
            let valid = self.buffer.len();
            self.padded[..valid].copy_from_slice(&self.buffer);
            self.padded[valid..].fill(0.0);
            let segment = Segment {
                index: self.emitted,
                start_sample: self.next_start,
                valid_samples: valid,
                samples: &self.padded,
                silent: is_silent(&self.buffer),
            };
            on_segment(segment);
            self.emitted += 1;
        }
        self.buffer.clear();
        self.to_skip = 0;
    }

    /// Number of segments emitted so far.
    pub fn emitted(&self) -> usize {
        self.emitted
    }

    fn whole(&self) -> Segment<'_> {
        let samples = &self.buffer[..self.length];
        Segment {
            index: self.emitted,
            start_sample: self.next_start,
            valid_samples: self.length,
            samples,
            silent: is_silent(samples),
        }
    }

    fn advance(&mut self) {
        let drop = self.hop.min(self.length);
        self.buffer.drain(..drop);
        self.to_skip = self.hop - drop;
        self.next_start += self.hop;
        self.emitted += 1;
    }
}

/// Whether every sample is below [`SILENCE_PEAK`].
pub fn is_silent(samples: &[f32]) -> bool {
    samples.iter().all(|s| s.abs() < SILENCE_PEAK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(length: usize, hop: usize, total: usize, chunk: usize) -> Vec<(usize, usize, usize)> {
        let signal: Vec<f32> = (0..total).map(|i| i as f32).collect();
        let mut seg = Segmenter::new(length, hop);
        let mut got = Vec::new();
        for c in signal.chunks(chunk) {
            seg.push(c, |s| {
                assert_eq!(s.samples.len(), length);
                assert_eq!(s.samples[0], s.start_sample as f32);
                got.push((s.index, s.start_sample, s.valid_samples));
            });
        }
        seg.finish(|s| got.push((s.index, s.start_sample, s.valid_samples)));
        got
    }

    #[test]
    fn a_hop_longer_than_the_segment_leaves_gaps() {
        for chunk in [1, 7, 100, 1000] {
            assert_eq!(collect(100, 120, 410, chunk), vec![(0, 0, 100), (1, 120, 100), (2, 240, 100), (3, 360, 50)]);
        }
    }

    #[test]
    fn cuts_without_overlap_in_any_chunk_size() {
        for chunk in [1, 7, 100, 1000] {
            assert_eq!(collect(100, 100, 250, chunk), vec![(0, 0, 100), (1, 100, 100), (2, 200, 50)]);
        }
    }

    #[test]
    fn drops_a_tail_shorter_than_half_a_segment() {
        assert_eq!(collect(100, 100, 240, 64), vec![(0, 0, 100), (1, 100, 100)]);
    }

    #[test]
    fn pads_a_clip_shorter_than_one_segment() {
        assert_eq!(collect(100, 100, 30, 8), vec![(0, 0, 30)]);
    }

    #[test]
    fn overlapping_hop() {
        assert_eq!(collect(100, 50, 260, 33), vec![(0, 0, 100), (1, 50, 100), (2, 100, 100), (3, 150, 100)]);
        assert_eq!(collect(100, 50, 310, 33).len(), 5);
    }

    #[test]
    fn digital_silence_is_marked() {
        let mut seg = Segmenter::new(4, 4);
        let mut flags = Vec::new();
        seg.push(&[0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0], |s| flags.push(s.silent));
        assert_eq!(flags, vec![true, false]);
    }
}
