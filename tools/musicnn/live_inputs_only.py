"""Runs the two mid-end convolutions that read dead channels (Conv_45: 64 live of the front end's
561; Conv_52: 20 live of Conv_45's 64) on their live input channels only. A dead channel holds one
constant over the whole patch (prune_dead.py), so what it adds to a convolution over time is a
constant per output channel, except in the first and last frames, where the kernel reaches into the
zero padding. So the convolution runs on the live channels plus one channel of ones (laid out as the
original's input, [batch, 1, frames, channels], with a [taps, channels] kernel) whose weights are the
dead channels' constants summed through each tap: its zero padding gives the edge frames exactly
their share. The live weights keep
their float16 values (a selection of them) and their `Cast`; the ones' weights are float32. Conv_45's multiply-adds
per patch fall from 14.7M to 1.7M, Conv_52's from 5.4M to 1.7M.

The outputs equal the input graph's within float32 rounding: checked with onnxruntime on the parity
patches and on random ones (max |difference| / max(1, |output|) <= 1e-5), else nothing is written.
Run by convert.sh after temporal_toeplitz.py.

Usage: python live_inputs_only.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys

import numpy as np
from onnx import helper, numpy_helper, shape_inference

from graph_edit import apply, constant, links, replace_nodes


def restored_channels(inits, producer, tensor):
    """For `tensor`, the output of fold_dead_chains.py's channel restore (Gather of the live channels
    concatenated with the dead ones' constants): (the live tensor [batch, live, frames(, 1)], and per
    channel of `tensor` in order, ("live", index) or ("dead", value))."""
    gather = producer[tensor]
    if gather.op_type != "Gather" or not gather.name.endswith("_restored"):
        raise SystemExit(f"{tensor} is not a restored channel set")
    live_out, dead_out = producer[gather.input[0]].input
    dead_values = inits[producer[dead_out].input[1]].reshape(-1)
    order = inits[gather.input[1]]
    live_count = len(order) - len(dead_values)
    return live_out, [("live", int(i)) if i < live_count else ("dead", float(dead_values[i - live_count]))
                      for i in order]


def weights(inits, producer, name):
    """A convolution weight's float16 values (through its Cast)."""
    cast = producer.get(name)
    return inits[cast.input[0] if cast is not None and cast.op_type == "Cast" else name]


def rewrite(model):
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer, _ = links(graph)
    shapes = {v.name: [d.dim_value or None for d in v.type.tensor_type.shape.dim]
              for v in shape_inference.infer_shapes(model).graph.value_info}
    nodes = {n.name: n for n in graph.node}
    new_nodes, new_inits, removed, done = [], [], set(), {}

    # Each convolution and the restored channel sets its input's columns are made of, in order.
    plan = {"Conv_45": list(nodes["Concat_41"].input), "Conv_52": ["Add_48"]}
    for name, sources in plan.items():
        conv = nodes.get(name)
        if conv is None:  # already rewritten
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        w16 = weights(inits, producer, conv.input[1])
        filters, one, taps, width = w16.shape
        pads = attrs["pads"]
        if one != 1 or attrs.get("group", 1) != 1 or pads[1] != 0 or pads[3] != 0 or pads[0] + pads[2] != taps - 1:
            raise SystemExit(f"{name}: not a 'same' convolution over time with the channels as its width")
        lives, columns, base = [], [], 0
        for tensor in sources:
            live, channels = restored_channels(inits, producer, tensor)
            lives.append(live)
            columns += [(kind, base + v) if kind == "live" else (kind, v) for kind, v in channels]
            base += sum(kind == "live" for kind, _ in channels)
        if len(columns) != width:
            raise SystemExit(f"{name}: {len(columns)} channels found for a kernel {width} wide")
        live_cols = sorted((v, c) for c, (kind, v) in enumerate(columns) if kind == "live")
        # The dead channels' constants, summed through each tap's weights: the weights of one more
        # input channel, 1 on every real frame and 0 in the padding (the convolution pads it), so the
        # first and last frames, whose kernel reaches into the padding, get exactly their share.
        dead = np.array([v if kind == "dead" else 0.0 for kind, v in columns])
        per_tap = w16.astype(np.float64)[:, 0] @ dead  # [filters, taps]
        w_live16 = w16[:, :, :, [c for _, c in live_cols]]  # [filters, 1, taps, live]
        if [v for v, _ in live_cols] != list(range(len(live_cols))):
            raise SystemExit(f"{name}: live channels missing from its input")

        # The live channels and the ones as [batch, live + 1, frames, 1].
        first = lives[0]
        one = [
            helper.make_node("Slice", [first, constant(new_inits, f"{name}_ones_start", [0], np.int64),
                                       constant(new_inits, f"{name}_ones_end", [1], np.int64),
                                       constant(new_inits, f"{name}_ones_axis", [1], np.int64)],
                             [f"{name}_one_channel"], name=f"{name}_one_channel"),
            helper.make_node("Mul", [f"{name}_one_channel", constant(new_inits, f"{name}_ones_zero", 0.0)],
                             [f"{name}_zeros"], name=f"{name}_zeros"),
            helper.make_node("Add", [f"{name}_zeros", constant(new_inits, f"{name}_ones_unit", 1.0)],
                             [f"{name}_ones"], name=f"{name}_ones"),
        ]
        x = f"{name}_live_and_ones"
        new_nodes += one + [helper.make_node("Concat", lives + [f"{name}_ones"], [x], axis=1, name=x)]
        # As the original: [batch, 1, frames, live + 1], the channels as the kernel's full width.
        if len(shapes[first]) == 4:
            axes = constant(new_inits, f"{name}_unit_axis", [3], np.int64)
            new_nodes.append(helper.make_node("Squeeze", [x, axes], [f"{x}_3d"], name=f"{x}_3d"))
            x = f"{x}_3d"
        new_nodes += [
            helper.make_node("Transpose", [x], [f"{x}_by_frame"], perm=[0, 2, 1], name=f"{x}_by_frame"),
            helper.make_node("Unsqueeze", [f"{x}_by_frame", constant(new_inits, f"{name}_image_axis", [1], np.int64)],
                             [f"{x}_image"], name=f"{x}_image"),
        ]
        x = f"{x}_image"
        w = f"{name}_w_live_only"
        constant(new_inits, f"{w}_fp16", w_live16, np.float16)
        new_nodes += [
            helper.make_node("Cast", [f"{w}_fp16"], [f"{w}_live"], to=1, name=f"{w}_cast"),
            helper.make_node("Concat", [f"{w}_live", constant(new_inits, f"{w}_dead", per_tap[:, None, :, None])],
                             [w], axis=3, name=w),
            helper.make_node("Conv", [x, w] + list(conv.input[2:]), [conv.output[0]],
                             kernel_shape=[taps, len(live_cols) + 1], pads=pads, name=f"{name}_of_live"),
        ]
        removed.add(name)
        done[name] = [len(live_cols), width]
    if not done:
        return None
    replace_nodes(model, removed, new_nodes, new_inits)
    return {"live_of_total_inputs": done}


if __name__ == "__main__":
    apply(rewrite, "convolutions_on_live_inputs", sys.argv[1:])
