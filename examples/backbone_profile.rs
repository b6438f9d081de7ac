//! Per-operator time of an ONNX model in tract (default: the shipped musicnn backbone), to see
//! which operators dominate inference: `cargo run --release --example backbone_profile [ONNX] [BATCH]`;
//! in WebAssembly, built for wasm32-wasip1 and run under node with `bench/wasi.mjs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map_or("models/backbone/musicnn_msd.onnx", String::as_str);
    let batch: usize = args.get(2).and_then(|b| b.parse().ok()).unwrap_or(1);
    let shape = [batch, 187, 96];
    // A concrete batch, as the runner loads models (SYMBOLIC_BATCH=1: a symbolic one, to compare).
    let mut model = tract_onnx::onnx().model_for_path(path)?;
    let first = if std::env::var_os("SYMBOLIC_BATCH").is_some() { model.sym("batch").to_dim() } else { batch.to_dim() };
    model = model.with_input_fact(0, f32::fact([first, 187.to_dim(), 96.to_dim()]).into())?;
    let plan = musicat::model::runner::optimized(model)?.into_runnable()?;
    // Values spread like musicnn's log10(10000·mel + 1) input (0–4), pseudo-random.
    let mut seed = 12345u32;
    let input: Tensor = tract_ndarray::Array3::<f32>::from_shape_fn(shape, |_| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        4.0 * (seed >> 8) as f32 / (1u32 << 24) as f32
    })
    .into();
    let mut state = tract_onnx::tract_core::plan::SimpleState::new(&plan)?;
    // Warm-up: in WebAssembly (wasm32-wasip1 under node) the engine's optimising compiler
    // replaces the baseline code only after a while.
    for _ in 0..20 {
        state.run(tvec!(input.clone().into()))?;
    }
    let runs = 5;
    let mut per_node: BTreeMap<String, (Duration, String)> = BTreeMap::new();
    let started = Instant::now();
    for _ in 0..runs {
        state.run_plan_with_eval(tvec!(input.clone().into()), |session, op_state, node, inputs| {
            let t = Instant::now();
            let out = tract_onnx::tract_core::plan::eval(session, op_state, node, inputs);
            let entry = per_node
                .entry(format!("{:>4} {}", node.id, node.name))
                .or_insert_with(|| (Duration::ZERO, node.op().name().to_string()));
            entry.0 += t.elapsed();
            out
        })?;
    }
    let total = started.elapsed() / runs as u32;
    let plain = Instant::now();
    for _ in 0..runs {
        plan.run(tvec!(input.clone().into()))?;
    }
    println!("plain run (no per-node timing): {:.1} ms", plain.elapsed().as_secs_f64() * 1000.0 / runs as f64);
    let mut rows: Vec<_> = per_node.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.0));
    println!("| node | operator | ms per run | share |\n|---|---|---:|---:|");
    for (name, (time, op)) in rows.iter().take(25) {
        let ms = time.as_secs_f64() * 1000.0 / runs as f64;
        println!("| {name} | {op} | {ms:.2} | {:.1}% |", 100.0 * ms / (total.as_secs_f64() * 1000.0));
    }
    println!("total per run (batch {batch}): {:.1} ms", total.as_secs_f64() * 1000.0);
    Ok(())
}
