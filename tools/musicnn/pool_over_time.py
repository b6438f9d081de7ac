"""Rewrites musicnn's max and mean over time (`ReduceMax` / `ReduceMean` over the 187 frames of the
[batch, 187, 753, 1] feature map: the `max_pool` and `mean_pool` embeddings) as a `MaxPool` and an
`AveragePool` over all frames of the same map seen as [batch, 1, 187, 753]: tract's generic reduction
over a middle axis is several times slower in WebAssembly than its pooling over contiguous rows.

The outputs equal the input graph's within float32 rounding (the mean sums in another order): checked
with onnxruntime on the parity patches and on random ones (max |difference| / max(1, |output|) <=
1e-5), else nothing is written. Run by convert.sh after fast_front_end.py.

Usage: python pool_over_time.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys

import numpy as np
from onnx import helper, shape_inference

from graph_edit import apply, constant, replace_nodes

POOLS = {"ReduceMax": "MaxPool", "ReduceMean": "AveragePool"}


def rewrite(model):
    graph = model.graph
    shapes = {v.name: [d.dim_value or None for d in v.type.tensor_type.shape.dim]
              for v in shape_inference.infer_shapes(model).graph.value_info}
    new_nodes, new_inits, removed, rewritten = [], [], set(), []
    rows = {}
    for reduce in [n for n in graph.node if n.op_type in POOLS]:
        attrs = {a.name: helper.get_attribute_value(a) for a in reduce.attribute}
        shape = shapes.get(reduce.input[0])
        if list(attrs.get("axes", [])) != [1] or not shape or len(shape) != 4 or shape[3] != 1 or None in shape[1:]:
            continue
        _, frames, channels, _ = shape
        keep = attrs.get("keepdims", 1)
        x = reduce.input[0]
        if x not in rows:
            rows[x] = f"{x}_frames_by_channels"
            shape = constant(new_inits, f"{rows[x]}_shape", [0, 1, frames, channels], np.int64)
            new_nodes.append(helper.make_node("Reshape", [x, shape], [rows[x]], name=rows[x]))
        name = reduce.name
        out_shape = [0, 1, channels, 1] if keep else [0, channels, 1]
        constant(new_inits, f"{name}_shape", out_shape, np.int64)
        new_nodes += [
            helper.make_node(POOLS[reduce.op_type], [rows[x]], [f"{name}_pooled"], kernel_shape=[frames, 1],
                             name=f"{name}_pooled"),
            helper.make_node("Reshape", [f"{name}_pooled", f"{name}_shape"], [reduce.output[0]], name=f"{name}_as_reduced"),
        ]
        removed.add(name)
        rewritten.append((name, POOLS[reduce.op_type]))
    if not rewritten:
        return None
    replace_nodes(model, removed, new_nodes, new_inits)
    return {"nodes": dict(rewritten)}



if __name__ == "__main__":
    apply(rewrite, "reductions_over_time_as_pooling", sys.argv[1:])
