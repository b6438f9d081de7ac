//! The backbones' part of `models/REPORT.md`: for each pretrained network the bundles run on, its
//! file and the parity of its conversion, read from the `<name>.conversion.json` that
//! `tools/musicnn/convert.sh` writes beside it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::model::Sidecar;

/// The section for every backbone a bundle in `dir` names (empty when none does). A backbone
/// without its conversion record is listed with the bundles on it and that fact.
pub fn section(dir: &Path, sidecars: &[Sidecar]) -> Result<String, String> {
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in sidecars {
        if let Some(backbone) = &s.backbone {
            users.entry(backbone.file.as_str()).or_default().push(s.task.as_str());
        }
    }
    let mut md = String::new();
    for (file, tasks) in users {
        let _ = writeln!(md, "\n## backbone `{file}`\n\n- shared by: {}", tasks.join(", "));
        let record = dir.join(file).with_extension("conversion.json");
        if !record.is_file() {
            let _ = writeln!(md, "- no conversion record ({} is missing)", record.display());
            continue;
        }
        let text = std::fs::read_to_string(&record).map_err(|e| format!("{}: {e}", record.display()))?;
        let conversion: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", record.display()))?;
        describe(&mut md, &conversion);
    }
    Ok(md)
}

/// The lines of one conversion record.
fn describe(md: &mut String, c: &Value) {
    let onnx = &c["onnx"];
    let half = &c["float16_weights"];
    let _ = writeln!(
        md,
        "- file: {} bytes, sha256 `{}`, ONNX opset {}; weights stored as float16 ({} bytes as float32)",
        onnx["bytes"],
        onnx["sha256"].as_str().unwrap_or("?"),
        onnx["opset"],
        half["float32_bytes"]
    );
    let patches: u64 = c["parity_inputs"].as_object().into_iter().flatten().filter_map(|(_, n)| n.as_u64()).sum();
    let files = c["parity_inputs"].as_object().map_or(0, |f| f.len());
    let _ = writeln!(
        md,
        "- conversion parity on {patches} patches of {files} audio files, largest absolute difference per output:\n  \
         ONNX (float32) against TensorFlow: {}; TensorFlow's own float32 against float64: {}; against musicnn's own \
         extractor: {}",
        outputs(&c["max_abs_diff_onnx_vs_tf"]),
        outputs(&c["max_abs_diff_tf32_vs_float64"]),
        outputs(&c["max_abs_diff_onnx_vs_musicnn_extractor"])
    );
    let _ = writeln!(
        md,
        "- float16 weights against float32, largest difference relative to each output's largest value: {} (bound {})",
        outputs(&half["max_rel_diff_vs_float32"]),
        half["bound"]
    );
    // The rewrites for speed (alphabetically), each checked against the graph before it.
    for (step, record) in c.as_object().into_iter().flatten() {
        if let Some(diff) = record.get("max_rel_diff_vs_before") {
            let _ = writeln!(
                md,
                "- rewrite `{step}`: largest difference from the graph before it, relative to each output's largest value: {}",
                outputs(diff)
            );
        }
    }
    let versions: Vec<String> = c["versions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, v)| format!("{name} {}", v.as_str().unwrap_or("?")))
        .collect();
    if !versions.is_empty() {
        let _ = writeln!(md, "- converted with {}", versions.join(", "));
    }
}

/// "logits 5.72e-6, mean_pool 1.24e-5, …" from a map of output name to figure.
fn outputs(v: &Value) -> String {
    let parts: Vec<String> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, x)| format!("{name} {}", x.as_f64().map_or("?".into(), figure)))
        .collect();
    if parts.is_empty() { "–".into() } else { parts.join(", ") }
}

/// A difference to three significant digits ("0" when there is none).
fn figure(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x:.2e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_backbone_shows_its_file_and_parity_figures() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let sidecar = Sidecar::from_json(include_str!("../../models/genre.json")).unwrap();
        let md = section(&models, &[sidecar]).unwrap();
        assert!(md.contains("## backbone `backbone/musicnn_msd.onnx`"), "{md}");
        assert!(md.contains("shared by: genre"), "{md}");
        let size = std::fs::metadata(models.join("backbone/musicnn_msd.onnx")).unwrap().len();
        assert!(md.contains(&format!("file: {size} bytes")), "the record's size is not the shipped file's: {md}");
        assert!(md.contains("ONNX (float32) against TensorFlow: logits "), "{md}");
        assert!(md.contains("rewrite `convolutions_on_live_inputs`"), "{md}");
        assert!(!md.contains(": –") && !md.contains(" ?"), "a figure is missing: {md}");
    }

    #[test]
    fn a_backbone_without_its_record_says_so() {
        let dir = std::env::temp_dir().join(format!("musicat-backbone-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sidecar = Sidecar::from_json(include_str!("../../models/mood.json")).unwrap();
        let md = section(&dir, &[sidecar]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(md.contains("shared by: mood") && md.contains("no conversion record"), "{md}");
    }
}
