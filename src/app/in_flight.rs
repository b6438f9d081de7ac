//! Files being classified, each by one worker or split in shares over several: their progress,
//! and the shares' results until all are in, then merged into the file's report and picture.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::report::TrackReport;
use crate::share::{merge, merge_pictures};
use crate::worker_api::{PictureShape, StageMs};

use super::state::Picture;

/// One file in flight.
struct Running {
    /// Each share's fraction done.
    progress: Vec<f64>,
    /// Each share's result and stage times, once in.
    parts: Vec<Option<(TrackReport, Picture, StageMs)>>,
}

thread_local! {
    static RUNNING: RefCell<HashMap<u32, Running>> = RefCell::new(HashMap::new());
}

/// Job `job` starts, cut into `shares` shares.
pub fn begin(job: u32, shares: u32) {
    let shares = shares.max(1) as usize;
    RUNNING.with(|r| r.borrow_mut().insert(job, Running { progress: vec![0.0; shares], parts: vec![None; shares] }));
}

/// Records share `share`'s progress; the job's overall fraction done, if it is still in flight.
pub fn progress(job: u32, share: u32, fraction: f64) -> Option<f64> {
    RUNNING.with(|r| {
        let mut running = r.borrow_mut();
        let entry = running.get_mut(&job)?;
        *entry.progress.get_mut(share as usize)? = fraction;
        Some(entry.progress.iter().sum::<f64>() / entry.progress.len() as f64)
    })
}

/// What a finished job leaves: its report, picture and each share's stage times.
pub type Finished = (TrackReport, Picture, Vec<StageMs>);

/// Records share `share`'s result. Once every share is in, the job leaves the flight with its
/// merged report and picture (or why they cannot be merged); `None` while shares are missing
/// or when the job is no longer in flight (it failed on another share).
pub fn share_done(
    job: u32,
    share: u32,
    report: TrackReport,
    shape: PictureShape,
    pixels: Vec<u8>,
    stages: StageMs,
) -> Option<Result<Finished, String>> {
    let picture = Picture { rows: shape.rows, columns: shape.columns, columns_per_second: shape.columns_per_second, pixels };
    let finished = RUNNING.with(|r| {
        let mut running = r.borrow_mut();
        let entry = running.get_mut(&job)?;
        *entry.parts.get_mut(share as usize)? = Some((report, picture, stages));
        if entry.parts.iter().any(Option::is_none) {
            return None;
        }
        running.remove(&job)
    })?;
    let mut reports = Vec::new();
    let mut pictures = Vec::new();
    let mut times = Vec::new();
    for (report, picture, stages) in finished.parts.into_iter().flatten() {
        reports.push(report);
        pictures.push(picture);
        times.push(stages);
    }
    if reports.len() == 1 {
        return reports.into_iter().zip(pictures).next().map(|(r, p)| Ok((r, p, times)));
    }
    let report = merge(reports).map_err(|e| e.to_string());
    let first = &pictures[0];
    let widths: Vec<(usize, &[u8])> = pictures.iter().map(|p| (p.columns as usize, p.pixels.as_slice())).collect();
    let (columns, pixels) = merge_pictures(first.rows as usize, &widths);
    let picture =
        Picture { rows: first.rows, columns: columns as u32, columns_per_second: first.columns_per_second, pixels };
    Some(report.map(|report| (report, picture, times)))
}

/// The job leaves the flight (it failed): true if it was in flight, so its failure is reported
/// once however many of its shares fail.
pub fn abandon(job: u32) -> bool {
    RUNNING.with(|r| r.borrow_mut().remove(&job).is_some())
}
