//! Backbone embeddings of training files: every segment's backbone outputs, computed once per
//! file and cached on disk, plus the training-only rows (uncovered tails, speed-changed copies).

use std::path::{Path, PathBuf};

use crate::audio::{AudioError, AudioStream, read_all};
use crate::model::Backbone;

use super::clips::InputMaker;
use super::dataset::Example;

/// Playback speeds of the training-only copies: 6% slower and faster, about a semitone down and
/// up, with the tempo moved as much (like a turntable's pitch control).
pub const COPY_SPEEDS: [f32; 2] = [0.94, 1.06];

/// Embeddings of one file's segments.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Label index.
    pub label: usize,
    /// The example's group (artist, song, recording): cross-validation folds never split one.
    pub group: String,
    /// `segments × width` values.
    pub values: Vec<f32>,
    /// Training-only extra rows (the end-aligned tail segment), `n × width`.
    pub extra: Vec<f32>,
    /// Training-only rows of the file played at each of [`COPY_SPEEDS`], `n × width`.
    pub copies: Vec<f32>,
}

/// Which training-only rows [`embed_all`] also computes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// The end-aligned segment the segmentation leaves out.
    pub tail: bool,
    /// The segments of the file played at [`COPY_SPEEDS`].
    pub speed_copies: bool,
}

/// Every backbone output of every segment of each example, in order (computed once per file
/// and cached in `cache`), with the training-only rows `extras` asks for; files that fail to
/// decode are skipped, and copies that fail left out, with a warning.
pub fn embed_all(
    examples: &[&Example],
    backbone: &Backbone,
    cache: &Path,
    extras: Extras,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<Embedded>, String> {
    let layout: Vec<String> = backbone.runner().output_layout().map(|(n, w)| format!("{n}:{w}")).collect();
    let layout = layout.join(",");
    std::fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let mut embedder = Embedder { backbone, maker: InputMaker::new(backbone.features()), mels: Vec::new() };
    let (rate, width) = (backbone.features().sample_rate, backbone.width());
    let mut all = Vec::with_capacity(examples.len());
    for (i, example) in examples.iter().enumerate() {
        let cached = |suffix: &str| cache.join(cache_name(&example.path, &format!("{layout}{suffix}")));
        let (file, tail_file) = (cached(""), cached(",tail"));
        let (values, extra) = match (read_rows(&file, width), read_rows(&tail_file, width)) {
            (Some(values), Some(extra)) => (values, extra),
            _ => {
                let Some(samples) = decoded(example, rate, 1.0, "skipping", warn) else { continue };
                let (values, extra) = embedder.rows(&samples, true).map_err(|e| in_file(example, e))?;
                write_rows(&file, &values)?;
                write_rows(&tail_file, &extra)?;
                (values, extra)
            }
        };
        let mut copies = Vec::new();
        for speed in COPY_SPEEDS.iter().filter(|_| extras.speed_copies) {
            let copy_file = cached(&format!(",speed{speed}"));
            if let Some(rows) = read_rows(&copy_file, width) {
                copies.extend(rows);
                continue;
            }
            let what = format!("no copy at speed {speed} of");
            let Some(samples) = decoded(example, rate, *speed, &what, warn) else { continue };
            let (rows, _) = embedder.rows(&samples, false).map_err(|e| in_file(example, e))?;
            write_rows(&copy_file, &rows)?;
            copies.extend(rows);
        }
        let extra = if extras.tail { extra } else { Vec::new() };
        all.push(Embedded { label: example.label, group: example.group.clone(), values, extra, copies });
        if (i + 1) % 100 == 0 {
            eprintln!("embedded {}/{} files", i + 1, examples.len());
        }
    }
    Ok(all)
}

/// The backbone run over the inference path's segments of decoded files.
struct Embedder<'b> {
    backbone: &'b Backbone,
    maker: InputMaker,
    mels: Vec<f32>,
}

impl Embedder<'_> {
    /// The backbone rows of the segments of `samples`, and (with `tail`) of the end-aligned
    /// segment they leave out.
    fn rows(&mut self, samples: &[f32], tail: bool) -> Result<(Vec<f32>, Vec<f32>), String> {
        let (width, item) = (self.backbone.width(), self.maker.item_len());
        self.mels.clear();
        let segments = self.maker.segments(samples, &mut self.mels);
        let count = segments + usize::from(tail && self.maker.uncovered_tail(samples, &mut self.mels));
        let mut values = Vec::with_capacity(count * width);
        let (batch, mut raw) = (crate::analyze::batch_size(), Vec::new());
        for start in (0..count).step_by(batch) {
            let n = batch.min(count - start);
            raw.clear();
            self.backbone
                .runner()
                .run_into(&self.mels[start * item..(start + n) * item], n, &mut raw)
                .map_err(|e| format!("backbone: {e:?}"))?;
            values.extend_from_slice(&raw);
        }
        let extra = values.split_off(segments * width);
        Ok((values, extra))
    }
}

/// The file at `path` as `rate` Hz samples played `speed` times as fast (pitch and tempo both
/// move): decoded at `rate / speed` and read as `rate`.
pub fn played_at(path: &Path, rate: u32, speed: f32) -> Result<Vec<f32>, AudioError> {
    read_all(AudioStream::open_file(path)?, (rate as f32 / speed).round() as u32)
}

/// The example played at `speed` (see [`played_at`]), or `None` after a warning that starts
/// with `what` and names the file.
fn decoded(example: &Example, rate: u32, speed: f32, what: &str, warn: &mut dyn FnMut(String)) -> Option<Vec<f32>> {
    played_at(&example.path, rate, speed).map_err(|err| warn(format!("{what} {}: {err}", example.path.display()))).ok()
}

fn in_file(example: &Example, error: String) -> String {
    format!("{}: {error}", example.path.display())
}

/// Rows of `width` little-endian floats cached in `file`, if it holds whole rows.
fn read_rows(file: &Path, width: usize) -> Option<Vec<f32>> {
    std::fs::read(file)
        .ok()
        .filter(|b| b.len() % (4 * width) == 0)
        .map(|bytes| bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect::<Vec<f32>>())
}

fn write_rows(file: &Path, rows: &[f32]) -> Result<(), String> {
    let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(file, bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// The embeddings restricted to the backbone outputs `outputs` (in that order); returns them and
/// their width.
pub fn select(files: &[Embedded], backbone: &Backbone, outputs: &[String]) -> Result<(Vec<Embedded>, usize), String> {
    let ranges = backbone.ranges(outputs)?;
    let width: usize = ranges.iter().map(|r| r.len()).sum();
    let full = backbone.width();
    let pick = |rows: &[f32]| {
        let mut values = Vec::with_capacity(rows.len() / full * width);
        for row in rows.chunks_exact(full) {
            ranges.iter().for_each(|r| values.extend_from_slice(&row[r.clone()]));
        }
        values
    };
    let selected = files
        .iter()
        .map(|f| Embedded {
            label: f.label,
            group: f.group.clone(),
            values: pick(&f.values),
            extra: pick(&f.extra),
            copies: pick(&f.copies),
        })
        .collect();
    Ok((selected, width))
}

/// A cache file name unique to the audio file (path, size, modification time) and the
/// backbone's output layout.
fn cache_name(path: &Path, layout: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    if let Ok(meta) = std::fs::metadata(path) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    layout.hash(&mut hasher);
    format!("{:016x}.f32", hasher.finish())
}

/// The default embedding cache: `$HOME/.cache/musicat/embeddings/<backbone file stem>-<hash of
/// its bytes>`, so a rebuilt backbone never reuses the embeddings of the previous one.
pub fn default_cache(backbone_file: &Path, backbone_bytes: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let stem = backbone_file.file_stem().map_or_else(|| "backbone".into(), |s| s.to_string_lossy().into_owned());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    backbone_bytes.hash(&mut hasher);
    home.join(".cache/musicat/embeddings").join(format!("{stem}-{:016x}", hasher.finish()))
}
