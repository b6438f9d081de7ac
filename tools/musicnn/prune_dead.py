"""Removes musicnn's dead filters from the converted ONNX: in the MSD model most filters of the
front-end and first mid-end convolutions have all-zero weights (Conv_9: 181 of 204, Conv_6: 190 of
204, ...), so their output is the constant bias whatever the input. Each such convolution keeps its
live filters only; right after it (after its max over frequency, for the front end) the dead
channels come back as their constant and a Gather restores the channel order, so every output of
the graph is unchanged. Checks onnxruntime outputs of the pruned graph against the original on the
parity patches (or random ones) and writes the pruned graph over the input.

Usage: python prune_dead.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

from graph_edit import apply, links, replace_nodes


def rewrite(model):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer, consumers = links(graph)
    new_nodes, new_inits, restored = [], [], []
    for conv in [n for n in graph.node if n.op_type == "Conv"]:
        cast = producer.get(conv.input[1])
        weight_init = inits[cast.input[0]] if cast is not None and cast.op_type == "Cast" else inits[conv.input[1]]
        weights = numpy_helper.to_array(weight_init)
        bias = numpy_helper.to_array(inits[conv.input[2]])
        dead = np.where(~weights.reshape(len(weights), -1).any(axis=1))[0]
        # A few dead filters are not worth the ops that restore them (Conv_51, Conv_59: 3 and 1 of 64).
        if len(dead) * 2 < len(weights):
            continue
        live = np.where(weights.reshape(len(weights), -1).any(axis=1))[0]
        name = conv.name
        live_w = numpy_helper.from_array(weights[live], f"{weight_init.name}_live")
        live_b = numpy_helper.from_array(bias[live], f"{conv.input[2]}_live")
        new_inits += [live_w, live_b]
        if cast is not None and cast.op_type == "Cast":
            new_nodes.append(helper.make_node("Cast", [live_w.name], [f"{name}_w_live"], to=onnx.TensorProto.FLOAT,
                                              name=f"{name}_w_live_cast"))
            conv.input[1] = f"{name}_w_live"
        else:
            conv.input[1] = live_w.name
        conv.input[2] = live_b.name
        # Restore after the max over frequency when that is the convolution's only consumer (a far
        # smaller tensor), else right after the convolution. A dead channel's value there is its bias.
        after = consumers[conv.output[0]]
        point = after[0] if len(after) == 1 and after[0].op_type == "MaxPool" else conv
        full = point.output[0]
        point.output[0] = f"{full}_live"
        zero = numpy_helper.from_array(np.zeros((), np.float32), f"{name}_zero")
        starts = numpy_helper.from_array(np.array([0], np.int64), f"{name}_starts")
        ends = numpy_helper.from_array(np.array([1], np.int64), f"{name}_ends")
        axes = numpy_helper.from_array(np.array([1], np.int64), f"{name}_axes")
        constant = numpy_helper.from_array(bias[dead].reshape(1, -1, 1, 1).astype(np.float32), f"{name}_dead_values")
        order = np.concatenate([live, dead])
        perm = numpy_helper.from_array(np.argsort(order).astype(np.int64), f"{name}_order")
        new_inits += [zero, starts, ends, axes, constant, perm]
        live_out = f"{full}_live"
        new_nodes += [
            helper.make_node("Slice", [live_out, starts.name, ends.name, axes.name], [f"{name}_one"], name=f"{name}_one"),
            helper.make_node("Mul", [f"{name}_one", zero.name], [f"{name}_zeros"], name=f"{name}_zeros"),
            helper.make_node("Add", [f"{name}_zeros", constant.name], [f"{name}_dead"], name=f"{name}_dead"),
            helper.make_node("Concat", [live_out, f"{name}_dead"], [f"{name}_grouped"], axis=1, name=f"{name}_grouped"),
            helper.make_node("Gather", [f"{name}_grouped", perm.name], [full], axis=1, name=f"{name}_restored"),
        ]
        restored.append((name, len(live), len(weights)))
    if not restored:
        return None
    # Drops, with the graph's sorting, what nothing reads any more: the full-size weights and their casts.
    replace_nodes(model, set(), new_nodes, new_inits)
    return {"live_of_total": {name: [live, total] for name, live, total in restored}}


if __name__ == "__main__":
    apply(rewrite, "pruned_dead_filters", sys.argv[1:])
