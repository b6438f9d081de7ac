"""Moves the restoring of musicnn's dead channels (prune_dead.py's Concat + Gather) past the
per-channel chain that follows it (batch-norm scales and offsets, ReLU, reshapes): the chain then
runs on the live channels only (Conv_9: 23 of 204) and the dead channels' constants go through it
once, here, instead of on every patch. Every output of the graph is unchanged: checked with
onnxruntime on the parity patches and on random ones (max |difference| /
max(1, |output|) <= 1e-5), else nothing is written. Run by convert.sh after prune_dead.py.

Usage: python fold_dead_chains.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys
from functools import partial

import numpy as np
from onnx import helper, numpy_helper

from graph_edit import apply, constant, links, replace_nodes


def per_channel(value, rank, channels):
    """The constant broadcast against a [batch, channels, ...] tensor of `rank`, as [channels] values,
    or None when it is not one value per channel."""
    shape = (1,) * (rank - value.ndim) + value.shape
    if len(shape) != rank or shape[1] != channels or any(d != 1 for i, d in enumerate(shape) if i != 1):
        return None
    return value.reshape(channels)


def rewrite(model):
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer, consumers = links(graph)
    new_nodes, new_inits, removed, folded = [], [], set(), []

    const = partial(constant, new_inits)

    for gather in [n for n in graph.node if n.op_type == "Gather" and n.name.endswith("_restored")]:
        concat = producer[gather.input[0]]
        live_out, dead_out = concat.input
        dead_add = producer[dead_out]
        dead_mul = producer[dead_add.input[0]]
        dead_slice = producer[dead_mul.input[0]]
        order = np.argsort(inits[gather.input[1]])
        channels = len(order)
        dead_values = inits[dead_add.input[1]].reshape(-1).astype(np.float32)
        live, dead = order[: channels - len(dead_values)], order[channels - len(dead_values):]
        # The chain: single-consumer reshapes, ReLUs and per-channel Mul / Add.
        rank, chain, cur = 4, [], gather.output[0]
        while len(consumers.get(cur, [])) == 1:
            n = consumers[cur][0]
            if n.op_type == "Relu":
                pass
            elif n.op_type == "Reshape" and n.input[1] in inits and list(inits[n.input[1]][1:2]) == [channels]:
                rank = len(inits[n.input[1]])
            elif n.op_type in ("Mul", "Add") and n.input[0] == cur and n.input[1] in inits:
                if per_channel(inits[n.input[1]], rank, channels) is None:
                    break
            else:
                break
            chain.append((n, rank))
            cur = n.output[0]
        if not chain:
            continue
        name = gather.name[: -len("_restored")]
        x, values = live_out, dead_values
        for n, rank in chain:
            out = f"{n.output[0]}_live"
            if n.op_type == "Relu":
                new_nodes.append(helper.make_node("Relu", [x], [out], name=out))
                values = np.maximum(values, np.float32(0))
            elif n.op_type == "Reshape":
                shape = inits[n.input[1]].copy()
                shape[1] = len(live)
                new_nodes.append(helper.make_node("Reshape", [x, const(f"{out}_shape", shape, np.int64)], [out], name=out))
            else:
                c = per_channel(inits[n.input[1]], rank, channels).astype(np.float32)
                shape = [1] * rank
                shape[1] = len(live)
                operand = const(f"{out}_operand", c[live].reshape(shape[1:]))
                new_nodes.append(helper.make_node(n.op_type, [x, operand], [out], name=out))
                values = values * c[dead] if n.op_type == "Mul" else values + c[dead]
            x = out
            removed.add(n.name)
        rank = chain[-1][1]
        shape = [1] * rank
        shape[1] = len(dead)
        new_nodes += [
            helper.make_node("Slice", [x, dead_slice.input[1], dead_slice.input[2], dead_slice.input[3]],
                             [f"{name}_chain_one"], name=f"{name}_chain_one"),
            helper.make_node("Mul", [f"{name}_chain_one", dead_mul.input[1]], [f"{name}_chain_zeros"],
                             name=f"{name}_chain_zeros"),
            helper.make_node("Add", [f"{name}_chain_zeros", const(f"{name}_chain_dead_values", values.reshape(shape))],
                             [f"{name}_chain_dead"], name=f"{name}_chain_dead"),
            helper.make_node("Concat", [x, f"{name}_chain_dead"], [f"{name}_chain_grouped"], axis=1,
                             name=f"{name}_chain_grouped"),
            helper.make_node("Gather", [f"{name}_chain_grouped", gather.input[1]], [cur], axis=1,
                             name=f"{name}_chain_restored"),
        ]
        removed.update([gather.name, concat.name, dead_add.name, dead_mul.name, dead_slice.name])
        folded.append((name, len(live), channels, [n.op_type for n, _ in chain]))
    if not folded:
        return None
    replace_nodes(model, removed, new_nodes, new_inits)
    return {"live_of_total": {name: [live, channels] for name, live, channels, _ in folded},
            "chains": {name: "+".join(ops) for name, _, _, ops in folded}}


if __name__ == "__main__":
    apply(rewrite, "dead_channels_past_their_chains", sys.argv[1:])
