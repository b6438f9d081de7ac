"""Rewrites musicnn's two timbral convolutions (Conv_6: 67x7, Conv_9: 38x7 over frequency x time,
each followed by a max over every frequency position) through a discrete Fourier transform along
frequency, so that the ONNX graph does the same arithmetic in 2.4 times fewer multiply-adds:

    out[c, g, t] = sum_{i, j} w[c, i, j] x[g + i, t + j - 3]          (g < 96 - Kf + 1: valid)

is, for every time shift j, a correlation along frequency; a circular correlation of length 96
equals it at every valid g, and in the DFT domain it is a product per frequency bin k:

    X[k, t] = DFT_96(x[:, t]),  O[c, k, t] = sum_j conj(W[c, k, j]) X[k, t + j - 3],
    out[c, g, t] = IDFT_96(O[c, :, t])[g]

The graph computes X once (a MatMul with the real DFT matrix: cos and -sin rows, 49 bins), O with a
convolution over time grouped by bin (2 inputs, 2 * filters outputs per bin, 7 taps), the inverse
for the valid g only (a MatMul), then the same max over frequency and the bias (a constant per
filter, so added after the max). Conv_9: 67.5M multiply-adds become 30.8M, Conv_6: 36.8M become
11.3M (the forward transform, 1.8M, is shared): 104.3M become 43.8M.

The outputs equal the input graph's within float32 rounding: checked with onnxruntime on the parity
patches and on random ones (max |difference| / max(1, |output|) <= 1e-5),
else nothing is written. Run by convert.sh after fold_dead_chains.py.

Usage: python fast_front_end.py MODEL.onnx [PARITY.npz [CONVERSION.json]]
(as every rewrite step: see graph_edit.apply)
"""
import sys
from functools import partial

import numpy as np
from onnx import helper, numpy_helper

from graph_edit import apply, constant, links, replace_nodes


def timbral_convolutions(graph, inits, producer, consumers):
    """(conv, maxpool, weights, bias, cast) for every Conv over frequency and time whose only
    consumer is a MaxPool over all its frequency positions."""
    found = []
    for conv in graph.node:
        if conv.op_type != "Conv":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        kf, kt = attrs["kernel_shape"]
        after = consumers.get(conv.output[0], [])
        if kf == 1 or len(after) != 1 or after[0].op_type != "MaxPool":
            continue
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        if attrs.get("group", 1) != 1 or pads[0] != 0 or pads[2] != 0 or pads[1] != pads[3]:
            continue
        cast = producer.get(conv.input[1])
        source = cast.input[0] if cast is not None and cast.op_type == "Cast" else conv.input[1]
        weights = numpy_helper.to_array(inits[source]).astype(np.float64)
        bias = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
        found.append((conv, after[0], weights, bias, pads[1]))
    return found


def rewrite(model):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer, consumers = links(graph)
    found = timbral_convolutions(graph, inits, producer, consumers)
    if not found:
        return None
    source = found[0][0].input[0]
    if any(conv.input[0] != source for conv, *_ in found):
        raise SystemExit("the timbral convolutions read different inputs")
    removed = set()
    new_nodes, new_inits = [], []

    const = partial(constant, new_inits)

    # x: [batch, 1, F, T] -> [batch, F, T]; X = D @ x: [batch, 2 * bins, T], rows (cos, -sin) per bin.
    n_freq = None
    for v in list(graph.value_info) + list(graph.input):
        if v.name == source:
            n_freq = v.type.tensor_type.shape.dim[2].dim_value
    n_freq = n_freq or 96
    bins = n_freq // 2 + 1
    f = np.arange(n_freq)
    k = np.arange(bins)
    angle = 2 * np.pi * np.outer(k, f) / n_freq
    dft = np.empty((2 * bins, n_freq))
    dft[0::2], dft[1::2] = np.cos(angle), -np.sin(angle)
    new_nodes += [
        helper.make_node("Squeeze", [source, const("dft_axis", [1], np.int64)], ["dft_x"], name="dft_x"),
        helper.make_node("MatMul", [const("dft_matrix", dft), "dft_x"], ["dft_spectrum"], name="dft_spectrum"),
    ]
    for conv, pool, weights, bias, pad in found:
        name = conv.name
        filters, _, kf, kt = weights.shape
        valid = n_freq - kf + 1
        # W[c, k, j] = sum_i w[c, i, j] e^{-2 pi i k i / N} = P + iQ; conj(W) X = (PA + QB) + i(PB - QA).
        wa = np.cos(2 * np.pi * np.outer(k, np.arange(kf)) / n_freq)  # [bins, kf]
        wb = -np.sin(2 * np.pi * np.outer(k, np.arange(kf)) / n_freq)
        p = np.einsum("cij,ki->ckj", weights[:, 0], wa)  # [filters, bins, kt]
        q = np.einsum("cij,ki->ckj", weights[:, 0], wb)
        # Grouped Conv1D, group k reads (A_k, B_k); its outputs: filters real parts, then imaginary.
        kernel = np.zeros((bins, 2, filters, 2, kt))  # [bin, re/im out, filter, A/B in, tap]
        kernel[:, 0, :, 0] = p.transpose(1, 0, 2)
        kernel[:, 0, :, 1] = q.transpose(1, 0, 2)
        kernel[:, 1, :, 0] = -q.transpose(1, 0, 2)
        kernel[:, 1, :, 1] = p.transpose(1, 0, 2)
        kernel = kernel.reshape(bins * 2 * filters, 2, kt)
        spectrum = f"{name}_spectrum"
        new_nodes.append(helper.make_node(
            "Conv", ["dft_spectrum", const(f"{name}_bin_kernel", kernel)], [spectrum], name=spectrum,
            group=bins, kernel_shape=[kt], pads=[pad, pad]))
        # [batch, bins * 2 * filters, T] -> [batch, 2 * bins, filters * T]; out = I @ that: [batch, valid, filters * T]
        scale = np.full(bins, 2.0 / n_freq)
        scale[0] = 1.0 / n_freq
        if n_freq % 2 == 0:
            scale[-1] = 1.0 / n_freq
        g = np.arange(valid)
        inverse = np.empty((valid, 2 * bins))
        inverse[:, 0::2] = scale * np.cos(2 * np.pi * np.outer(g, k) / n_freq)
        inverse[:, 1::2] = -scale * np.sin(2 * np.pi * np.outer(g, k) / n_freq)
        new_nodes += [
            helper.make_node("Reshape", [spectrum, const(f"{name}_by_bin_shape", [0, 2 * bins, -1], np.int64)],
                             [f"{name}_by_bin"], name=f"{name}_by_bin"),
            helper.make_node("MatMul", [const(f"{name}_idft", inverse), f"{name}_by_bin"], [f"{name}_freq"],
                             name=f"{name}_freq"),
            # [batch, valid, filters * T] -> [batch, 1, valid, filters * T]: the max over frequency.
            helper.make_node("Unsqueeze", [f"{name}_freq", const(f"{name}_one_axis", [1], np.int64)],
                             [f"{name}_pool_in"], name=f"{name}_pool_in"),
            helper.make_node("MaxPool", [f"{name}_pool_in"], [f"{name}_pooled"], kernel_shape=[valid, 1],
                             name=f"{name}_pooled"),
            helper.make_node("Reshape", [f"{name}_pooled", const(f"{name}_by_filter_shape", [0, filters, 1, -1], np.int64)],
                             [f"{name}_by_filter"], name=f"{name}_by_filter"),
            helper.make_node("Add", [f"{name}_by_filter", const(f"{name}_bias", bias.reshape(1, filters, 1, 1))],
                             [pool.output[0]], name=f"{name}_biased"),
        ]
        removed.update([conv.name, pool.name])
    replace_nodes(model, removed, new_nodes, new_inits)
    return {"convolutions": {conv.name: list(weights.shape) for conv, _, weights, _, _ in found}}


if __name__ == "__main__":
    apply(rewrite, "timbral_convolutions_through_dft", sys.argv[1:])
