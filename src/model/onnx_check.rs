//! Checks a parsed ONNX graph for the malformed parts that make tract panic instead of returning an
//! error (found by fuzzing): outputs nothing produces, window attributes of the wrong length.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{GraphProto, NodeProto};

/// Operators whose `kernel_shape`, `strides`, `dilations` and `pads` describe spatial windows.
const WINDOWED: [&str; 7] = ["Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"];

/// Why the graph would crash the runtime, if it would.
pub fn check_graph(graph: &GraphProto) -> Result<(), String> {
    let produced: HashSet<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .chain(graph.node.iter().flat_map(|n| n.output.iter().map(String::as_str)))
        .collect();
    if let Some(output) = graph.output.iter().find(|o| !produced.contains(o.name.as_str())) {
        return Err(format!("its output `{}` is produced by nothing in the graph", output.name));
    }
    let weight_ranks: HashMap<&str, usize> =
        graph.initializer.iter().map(|t| (t.name.as_str(), t.dims.len())).collect();
    for node in graph.node.iter().filter(|n| WINDOWED.contains(&n.op_type.as_str())) {
        check_window(node, &weight_ranks).map_err(|why| format!("node `{}` ({}): {why}", node.name, node.op_type))?;
    }
    Ok(())
}

/// Every window attribute must describe the same number of spatial axes.
fn check_window(node: &NodeProto, weight_ranks: &HashMap<&str, usize>) -> Result<(), String> {
    let len = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.len());
    let from_weight = node.input.get(1).and_then(|w| weight_ranks.get(w.as_str())).map(|r| r.saturating_sub(2));
    let axes = len("kernel_shape").or(from_weight).or(len("strides")).or(len("dilations"));
    let Some(axes) = axes else {
        return match len("pads") {
            Some(p) if p % 2 == 1 => Err(format!("`pads` has {p} values; it needs two per spatial axis")),
            _ => Ok(()),
        };
    };
    for (name, want) in [("kernel_shape", axes), ("strides", axes), ("dilations", axes), ("pads", 2 * axes)] {
        if let Some(got) = len(name).filter(|&got| got != want) {
            return Err(format!("`{name}` has {got} values for {axes} spatial axes (expected {want})"));
        }
    }
    Ok(())
}
