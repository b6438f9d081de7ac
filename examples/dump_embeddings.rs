//! Writes the shipped musicnn backbone's embeddings of every segment of every file of the four
//! shipped tasks (from the trainer's cache, computed if missing) with label, group and split, for
//! the classifier probes in `tools/head_probe/` and `tools/backbone_probe/`:
//! `cargo run --release --features train --example dump_embeddings -- DATA_DIR OUT_DIR`.
//! Per task: `OUT_DIR/<task>.f32` (little-endian rows of all backbone outputs) and
//! `OUT_DIR/<task>.csv` (one line per row, with the file's path); `OUT_DIR/layout.txt` names the outputs and widths.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use musicat::training::{dataset, heads};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, data, out] = args.as_slice() else {
        return Err("usage: dump_embeddings DATA_DIR OUT_DIR".into());
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (backbone, cache) =
        heads::open_backbone(Path::new("models/backbone/musicnn_msd.onnx"), "backbone/musicnn_msd.onnx")?;
    let layout: Vec<String> = backbone.runner().output_layout().map(|(n, w)| format!("{n}:{w}")).collect();
    std::fs::write(out.join("layout.txt"), layout.join("\n") + "\n").map_err(|e| e.to_string())?;
    let width = backbone.width();
    for task in dataset::TASKS {
        let ds = dataset::from_manifest(Path::new(data), task)?;
        let examples: Vec<&dataset::Example> = ds.examples.iter().collect();
        let mut warn = |message: String| eprintln!("warning: {message}");
        // With the end-aligned tail segments of 4-s sound clips (marked `tail`, training only).
        let embedded = heads::embed_all(
            &examples,
            &backbone,
            &cache,
            heads::Extras { tail: true, speed_copies: false },
            &mut warn,
        )?;
        if embedded.len() != examples.len() {
            return Err(format!("{task}: {} files could not be read", examples.len() - embedded.len()));
        }
        let mut table = String::from("file,label,group,validation,segment,tail,path\n");
        let mut raw = Vec::new();
        for (i, (example, rows)) in examples.iter().zip(&embedded).enumerate() {
            let group = example.group.replace([',', '"'], ";");
            let label = &ds.labels[example.label];
            let path = example.path.display().to_string().replace([',', '"'], ";");
            for (values, tail) in [(&rows.values, 0), (&rows.extra, 1)] {
                for (segment, row) in values.chunks_exact(width).enumerate() {
                    let _ = writeln!(table, "{i},{label},{group},{},{segment},{tail},{path}", example.validation);
                    raw.extend(row.iter().flat_map(|v| v.to_le_bytes()));
                }
            }
        }
        std::fs::write(out.join(format!("{task}.csv")), table).map_err(|e| e.to_string())?;
        std::fs::write(out.join(format!("{task}.f32")), raw).map_err(|e| e.to_string())?;
        eprintln!("{task}: {} files", examples.len());
    }
    Ok(())
}
