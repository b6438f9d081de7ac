//! Puts the shipped backbone folder (weights, tag names, licence) beside a head bundle trained
//! into a new folder, so that folder is complete for `classify --models` and the app.

use std::path::{Path, PathBuf};

/// The backbone `file` (relative to `out`, e.g. `backbone/musicnn_msd.onnx`): used where it is,
/// or copied with the rest of its folder from `source` (the shipped models folder) when `out`
/// has none. Returns the backbone's path inside `out`.
pub fn ensure_backbone(out: &Path, file: &str, source: &Path) -> Result<PathBuf, String> {
    let target = out.join(file);
    if target.is_file() {
        return Ok(target);
    }
    let shipped = source.join(file);
    if !shipped.is_file() {
        return Err(format!(
            "the backbone {file} is neither in {} nor in {} (give the shipped models folder with --backbone-from)",
            out.display(),
            source.display()
        ));
    }
    let (from_dir, to_dir) = match (shipped.parent(), target.parent()) {
        (Some(from), Some(to)) => (from, to),
        _ => return Err(format!("{file} names no folder")),
    };
    std::fs::create_dir_all(to_dir).map_err(|e| format!("cannot create {}: {e}", to_dir.display()))?;
    let entries = std::fs::read_dir(from_dir).map_err(|e| format!("cannot read {}: {e}", from_dir.display()))?;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()) {
        let Some(name) = path.file_name() else { continue };
        std::fs::copy(&path, to_dir.join(name))
            .map_err(|e| format!("cannot copy {} to {}: {e}", path.display(), to_dir.display()))?;
    }
    eprintln!("copied the backbone folder {} into {}", from_dir.display(), to_dir.display());
    Ok(target)
}
