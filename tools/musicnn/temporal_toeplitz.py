"""Rewrites musicnn's longest temporal convolution (Conv_11: 1 x 128 over frequency x time, 3 live
filters, then a max over all 96 frequency rows) as one matrix product of the input rows with a
constant banded Toeplitz matrix, [96, 187] @ [187, 3 * 187], then the same max and the bias.

As a convolution, each 8-row tile of tract's matrix kernel holds 3 filters, and the 128 x 17,952
patch matrix is gathered for them alone: 3.7-4.9 ms of a 25-37 ms patch in WebAssembly. The product
does 1.5 times the multiply-adds (the band is 128 of 187 wide) with the input packed once: 1.5 ms.
Only worth it where the kernel spans most of the frames, so shorter kernels (Conv_7: 32 taps, Conv_28:
64) stay convolutions. The matrix holds copies of the float16 weights, so it is stored as float16
too (exact) with a `Cast`, as the other weights are.

The outputs equal the input graph's (checked with onnxruntime on the parity patches and on random
ones; max |difference| / max(1, |output|) <= 1e-5, else nothing is written). Run by convert.sh
after pool_over_time.py.

Usage: python temporal_toeplitz.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys
from functools import partial

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from graph_edit import apply, constant, links, replace_nodes

# A temporal convolution becomes a product when its kernel spans at least this share of the frames.
MIN_SPAN = 0.6


def rewrite(model):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    shapes = {v.name: [d.dim_value or None for d in v.type.tensor_type.shape.dim]
              for v in shape_inference.infer_shapes(model).graph.value_info}
    producer, consumers = links(graph)
    new_nodes, new_inits, removed, rewritten = [], [], set(), []

    const = partial(constant, new_inits)

    for conv in [n for n in graph.node if n.op_type == "Conv"]:
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        shape = shapes.get(conv.input[0])
        after = consumers.get(conv.output[0], [])
        if (len(attrs["kernel_shape"]) != 2 or attrs["kernel_shape"][0] != 1 or attrs.get("group", 1) != 1
                or not shape or len(shape) != 4 or shape[1] != 1 or None in shape[2:]
                or len(after) != 1 or after[0].op_type != "MaxPool"):
            continue
        _, _, n_rows, frames = shape
        taps = attrs["kernel_shape"][1]
        pool = after[0]
        if [helper.get_attribute_value(a) for a in pool.attribute if a.name == "kernel_shape"] != [[n_rows, 1]]:
            continue
        if taps < MIN_SPAN * frames:
            continue
        cast = producer.get(conv.input[1])
        half = cast is not None and cast.op_type == "Cast"
        weights = numpy_helper.to_array(inits[cast.input[0] if half else conv.input[1]])  # [filters, 1, 1, taps]
        bias = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float32)
        filters = weights.shape[0]
        before = attrs.get("pads", [0, 0, 0, 0])[1]
        # out[c, f, t] = sum_j w[c, j] x[f, t + j - before] = sum_s x[f, s] H[s, c * frames + t].
        toeplitz = np.zeros((frames, filters * frames), weights.dtype)
        for c in range(filters):
            for t in range(frames):
                for j in range(taps):
                    s = t + j - before
                    if 0 <= s < frames:
                        toeplitz[s, c * frames + t] = weights[c, 0, 0, j]
        name = conv.name
        matrix = const(f"{name}_toeplitz", toeplitz, toeplitz.dtype)
        if half:
            new_nodes.append(helper.make_node("Cast", [matrix], [f"{matrix}_f32"], to=onnx.TensorProto.FLOAT,
                                              name=f"{matrix}_cast"))
            matrix = f"{matrix}_f32"
        new_nodes += [
            helper.make_node("Squeeze", [conv.input[0], const(f"{name}_rows_axis", [1], np.int64)], [f"{name}_rows"],
                             name=f"{name}_rows"),
            helper.make_node("MatMul", [f"{name}_rows", matrix], [f"{name}_product"], name=f"{name}_product"),
            helper.make_node("Unsqueeze", [f"{name}_product", const(f"{name}_one_axis", [1], np.int64)],
                             [f"{name}_pool_in"], name=f"{name}_pool_in"),
            helper.make_node("MaxPool", [f"{name}_pool_in"], [f"{name}_pooled"], kernel_shape=[n_rows, 1],
                             name=f"{name}_pooled"),
            helper.make_node("Reshape", [f"{name}_pooled", const(f"{name}_by_filter_shape", [0, filters, 1, frames],
                                                                 np.int64)],
                             [f"{name}_by_filter"], name=f"{name}_by_filter"),
            helper.make_node("Add", [f"{name}_by_filter", const(f"{name}_bias", bias.reshape(1, filters, 1, 1))],
                             [pool.output[0]], name=f"{name}_biased"),
        ]
        removed.update([conv.name, pool.name])
        rewritten.append((name, filters, taps, frames))
    if not rewritten:
        return None
    replace_nodes(model, removed, new_nodes, new_inits)
    return {"convolutions": {name: {"filters": filters, "taps": taps, "frames": frames}
                             for name, filters, taps, frames in rewritten}}



if __name__ == "__main__":
    apply(rewrite, "long_temporal_convolutions_as_toeplitz_products", sys.argv[1:])
