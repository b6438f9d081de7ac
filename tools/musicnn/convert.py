#!/usr/bin/env python3
"""Convert the pretrained musicnn MSD model (musicnn 0.1.0, ISC) to ONNX and write parity references.

Run through convert.sh (it makes the pinned venv). Steps:

1. Rebuild the MSD_musicnn graph with musicnn's own code (musicnn.models.define_model, the
   configuration of musicnn.extractor) in TF1 graph mode, inference mode (is_training=False:
   batch norm uses its moving statistics, dropout is the identity).
2. Restore the checkpoint shipped in the wheel (musicnn/MSD_musicnn/) explicitly, with no
   try/except (musicnn.extractor() swallows restore errors and runs random weights).
3. Freeze, convert with tf2onnx, fold every BatchNormalization into Mul + Add with constant
   operands, rename input/outputs, make the batch axis dynamic.
4. Check: onnxruntime == TensorFlow (max abs diff <= 1e-4 per output) on real audio patches;
   sigmoid(logits) == musicnn.extractor()'s taggram; a GTZAN rock clip's top tags are rock-ish.
5. Write models/backbone/{musicnn_msd.onnx, musicnn_msd.tags.json, LICENSE-musicnn.txt,
   musicnn_msd.conversion.json (size, sha256, I/O and the parity figures, for models/REPORT.md)} and
   tests/reference/musicnn/*.json (+ one raw .f32 waveform).

Exits non-zero on any failed check.
"""

import argparse
import glob
import hashlib
import json
import os
import sys

# tf2onnx's graph optimizers iterate over sets: fix the hash seed so the .onnx is byte-identical
# from run to run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import librosa  # noqa: E402
import soundfile  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()

import onnx  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tf2onnx  # noqa: E402

import musicnn  # noqa: E402
from musicnn import configuration as config  # noqa: E402
from musicnn import extractor as mextractor  # noqa: E402
from musicnn import models as mmodels  # noqa: E402

MODEL = "MSD_musicnn"
N_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as extractor()
OPSET = 13
TOL = 1e-4  # max |onnx - tf| for logits, mean_pool, penultimate
# max_pool reaches ~80: there TensorFlow's own float32 result is ~2.5e-4 away from the float64
# result (summation order in the 7x561 mid-end convolutions), so the bound is 1e-4 + 2e-5*|tf|.
TOL_REL_MAX_POOL = 2e-5
OUTPUTS = ["logits", "mean_pool", "max_pool", "penultimate"]
ROCKISH = {"rock", "alternative rock", "classic rock", "hard rock", "indie rock", "Progressive rock",
           "metal", "heavy metal", "punk", "alternative", "guitar"}

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
OUT_MODEL_DIR = os.path.join(REPO, "models", "backbone")
OUT_REF_DIR = os.path.join(REPO, "tests", "reference", "musicnn")
PKG_DIR = os.path.dirname(os.path.abspath(musicnn.__file__))
CKPT_PREFIX = os.path.join(PKG_DIR, MODEL) + "/"  # files are MSD_musicnn/.index, .data-*: empty basename

# Fixtures (>= 3 s, so musicnn makes at least one patch) that libsndfile reads. The .m4a is left
# out: librosa would need audioread + an ffmpeg binary for it.
PARITY_FIXTURES = [
    "mel_input.wav",
    "audio/music_12s_22050_mono.flac",
    "audio/music_stereo_22050.flac",
    "audio/music_stereo_44100.mp3",
    "audio/music_stereo_44100.ogg",
    "audio/silence6s_tone6s_16000_mono.wav",
    "audio/tone_s16_22050_5.1.flac",
]


def log(*a):
    print(*a, flush=True)


def fail(msg):
    print("FAILED: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- TF graph + restore


def build_and_restore():
    """Builds MSD_musicnn as musicnn.extractor() does, restores the wheel's checkpoint, no try."""
    graph = tf.Graph()
    with graph.as_default():
        labels = config.MSD_LABELS
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, config.N_MELS], name="mel")
            # Python False (not a placeholder): inference-mode batch norm and dropout, no tf.cond.
            (y, _timbral, _temporal, _cnn1, _cnn2, _cnn3, mean_pool, max_pool, penultimate) = \
                mmodels.define_model(x, False, MODEL, len(labels))
        outs = {
            "logits": tf.identity(y, name="logits"),
            "mean_pool": tf.identity(mean_pool, name="mean_pool"),
            "max_pool": tf.identity(max_pool, name="max_pool"),
            "penultimate": tf.identity(penultimate, name="penultimate"),
        }
        sess = tf.compat.v1.Session(graph=graph)
        # No global_variables_initializer: every variable must come from the checkpoint, or
        # reading it fails ("uninitialized value").
        gvars = tf.compat.v1.global_variables()
        reader = tf.compat.v1.train.NewCheckpointReader(CKPT_PREFIX)
        ckpt = reader.get_variable_to_shape_map()
        for v in gvars:
            name = v.op.name
            if name not in ckpt:
                fail("graph variable %s is not in the checkpoint" % name)
            if list(ckpt[name]) != v.shape.as_list():
                fail("shape mismatch for %s: graph %s, checkpoint %s" % (name, v.shape, ckpt[name]))
        model_vars = {k for k in ckpt if "Adam" not in k and k not in ("beta1_power", "beta2_power")}
        unused = model_vars - {v.op.name for v in gvars}
        if unused:
            fail("checkpoint variables not used by the graph: %s" % sorted(unused))
        saver = tf.compat.v1.train.Saver(var_list=gvars)
        saver.restore(sess, CKPT_PREFIX)  # raises on any error: no try/except on purpose
        # Double-check a restored value against the checkpoint.
        for v in gvars:
            got = sess.run(v)
            if not np.array_equal(got, reader.get_tensor(v.op.name)):
                fail("variable %s differs from the checkpoint after restore" % v.op.name)
        n_params = int(sum(np.prod(v.shape.as_list()) for v in gvars))
        log("restored %d variables (%d parameters) from %s" % (len(gvars), n_params, CKPT_PREFIX))
    return graph, sess, x, outs, labels


def build_float64():
    """The same graph in float64, weights loaded (cast) from the checkpoint: the exact reference that
    tells float32 rounding noise from conversion errors."""
    graph = tf.Graph()
    with graph.as_default():
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float64, [None, N_FRAMES, config.N_MELS], name="mel")
            r = mmodels.define_model(x, False, MODEL, len(config.MSD_LABELS))
        outs = {"logits": r[0], "mean_pool": r[6], "max_pool": r[7], "penultimate": r[8]}
        sess = tf.compat.v1.Session(graph=graph)
        reader = tf.compat.v1.train.NewCheckpointReader(CKPT_PREFIX)
        for v in tf.compat.v1.global_variables():
            if v.dtype.base_dtype != tf.float64:
                fail("float64 graph has a %s variable %s" % (v.dtype, v.op.name))
            v.load(reader.get_tensor(v.op.name).astype(np.float64), sess)
    return sess, x, outs


def tf_run(sess, x, outs, batch, dtype=np.float32):
    vals = sess.run([outs[k] for k in OUTPUTS], feed_dict={x: batch.astype(dtype)})
    return dict(zip(OUTPUTS, vals))


# ---------------------------------------------------------------- ONNX


def freeze(graph, sess):
    with graph.as_default():
        gd = graph.as_graph_def()
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(sess, gd, OUTPUTS)
        frozen = tf.compat.v1.graph_util.extract_sub_graph(frozen, OUTPUTS)
    return frozen


def rename_value(model, old, new):
    g = model.graph
    for n in g.node:
        for i, v in enumerate(n.input):
            if v == old:
                n.input[i] = new
        for i, v in enumerate(n.output):
            if v == old:
                n.output[i] = new
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.name == old:
            vi.name = new


def set_nodes(g, nodes):
    """Replaces the graph's nodes by `nodes` and drops the initializers no longer referenced."""
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)


def fold_batchnorm(model):
    """Replaces each BatchNormalization (inference form, constant parameters) by
    Mul(x, s) + Add(t), s = gamma / sqrt(var + eps), t = beta - mean * s, broadcast on axis 1."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, folded = [], 0
    for n in g.node:
        if n.op_type != "BatchNormalization":
            new_nodes.append(n)
            continue
        if len(n.output) != 1 or any(i not in inits for i in n.input[1:5]):
            fail("BatchNormalization %s is not in constant inference form" % n.name)
        eps = 1e-5
        for a in n.attribute:
            if a.name == "epsilon":
                eps = a.f
            if a.name == "training_mode" and a.i != 0:
                fail("BatchNormalization %s has training_mode" % n.name)
        gamma, beta, mean, var = (numpy_helper.to_array(inits[i]).astype(np.float64) for i in n.input[1:5])
        s = gamma / np.sqrt(var + np.float64(np.float32(eps)))
        t = beta - mean * s
        # Broadcast over axis 1 (N, C, ...). The rank of x is not always known here, so let
        # shape inference tell; fall back to rank 4 (tf2onnx emits BN on NCHW tensors).
        rank = _rank_of(model, n.input[0])
        shape = [len(s)] + [1] * (rank - 2)
        sn, tn = n.name + "/scale", n.name + "/shift"
        g.initializer.append(numpy_helper.from_array(s.astype(np.float32).reshape(shape), sn))
        g.initializer.append(numpy_helper.from_array(t.astype(np.float32).reshape(shape), tn))
        mid = n.output[0] + "/scaled"
        new_nodes.append(helper.make_node("Mul", [n.input[0], sn], [mid], name=n.name + "/mul"))
        new_nodes.append(helper.make_node("Add", [mid, tn], [n.output[0]], name=n.name + "/add"))
        folded += 1
    set_nodes(g, new_nodes)
    return folded


def pool_on_conv_output(model):
    """Rewrites each front-end branch
        Conv -> Relu -> Mul(s) [-> Add(t)] -> MaxPool over all W -> Squeeze(W)
    as
        Transpose(input to [N, 1, F, T]) -> Conv(weights and bias times s, F and T swapped)
        -> MaxPool over all of F -> Reshape [N, C, T] -> Mul(g) -> Relu -> Mul(g) [-> Add(t)],
    g = sign(s) per channel.
    Per channel, s * relu(z) = max(s*z, 0) if s >= 0 and min(s*z, 0) = -relu(-s*z) if s < 0 (batch
    norm follows the ReLU in musicnn; most of its scales are negative), and both commute with the
    max over frequency. So the elementwise work runs on the pooled map, 30-96 times smaller,
    instead of the convolution's full output, where tract spent over a third of its time.
    Frequency-major, the max runs over whole contiguous rows of T values, which tract's MaxPool
    vectorises (over rows of W it was 5 ms per patch; as ReduceMax of [rows, W], 8 operators
    did 24% of the work); the input's transpose is shared by the branches. Only the summation
    order changes (the weights are scaled before the sums), within float rounding."""
    g = model.graph
    inferred = onnx.shape_inference.infer_shapes(model)
    shape_of = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred.graph.value_info}
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    nodes = []  # detached copies: protobuf wrappers have no stable identity
    for n in g.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(n)
        nodes.append(copy)
    producer = {o: n for n in nodes for o in n.output}
    consumers = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for o in g.output:
        consumers.setdefault(o.name, []).extend([None, None])

    def single_producer(name, op_type):
        n = producer.get(name)
        return n if n is not None and n.op_type == op_type and len(consumers.get(name, [])) == 1 else None

    def per_channel_const(n):
        const = [i for i in n.input if i in inits]
        if len(n.input) != 2 or len(const) != 1:
            return None, None
        c = inits[const[0]]
        data = [i for i in n.input if i not in inits][0]
        return (c, data) if c.ndim == 3 and c.shape[1:] == (1, 1) else (None, None)

    def const(name, value, dtype=np.float32):
        g.initializer.append(numpy_helper.from_array(np.asarray(value).astype(dtype), name))
        return name

    rewritten = 0
    transposed = {}  # conv input -> its frequency-major Transpose node
    for pool in [n for n in nodes if n.op_type == "MaxPool"]:
        after = consumers.get(pool.output[0], [])
        squeeze = after[0] if len(after) == 1 and after[0] is not None and after[0].op_type == "Squeeze" else None
        if squeeze is None or len(squeeze.input) != 2 or list(inits.get(squeeze.input[1], [])) != [3]:
            continue
        add = single_producer(pool.input[0], "Add")
        shift, data = per_channel_const(add) if add is not None else (None, pool.input[0])
        mul = single_producer(data, "Mul")
        if mul is None:
            continue
        scale, data = per_channel_const(mul)
        relu = single_producer(data, "Relu") if scale is not None else None
        conv = single_producer(relu.input[0], "Conv") if relu is not None else None
        if conv is None or len(conv.input) != 3 or any(i not in inits for i in conv.input[1:]):
            continue
        shape = shape_of.get(conv.output[0], [])
        kernel = next((list(a.ints) for a in pool.attribute if a.name == "kernel_shape"), [])
        if len(shape) != 4 or 0 in shape[1:] or kernel != [1, shape[3]]:
            continue
        _, channels, frames, width = shape
        s = scale.reshape(-1).astype(np.float64)
        w, b = (inits[i].astype(np.float64) for i in conv.input[1:])
        w_scaled = (w * s.reshape((-1,) + (1,) * (w.ndim - 1))).transpose(0, 1, 3, 2)
        conv.input[1] = const(conv.name + "/w_scaled", np.ascontiguousarray(w_scaled))
        conv.input[2] = const(conv.name + "/b_scaled", b * s)
        for a in conv.attribute:
            if a.name in ("kernel_shape", "strides", "dilations"):
                a.ints[:] = [a.ints[1], a.ints[0]]
            elif a.name == "pads":
                a.ints[:] = [a.ints[1], a.ints[0], a.ints[3], a.ints[2]]
            elif a.name == "auto_pad" and a.s not in (b"", b"NOTSET", b"VALID"):
                fail("pool_on_conv_output: %s pads automatically (%s)" % (conv.name, a.s))
        source = conv.input[0]
        if source not in transposed:
            transposed[source] = helper.make_node("Transpose", [source], [source + "/freq_major"],
                                                  perm=[0, 1, 3, 2], name=source + "/freq_major")
        conv.input[0] = source + "/freq_major"
        sign = np.where(s < 0, -1.0, 1.0).reshape(-1, 1)
        name = pool.name
        x = conv.output[0]
        tail = [
            helper.make_node("MaxPool", [x], [name + "/max"], kernel_shape=[width, 1], name=name + "/max"),
            helper.make_node("Reshape", [name + "/max", const(name + "/nct_shape", [-1, channels, frames], np.int64)],
                             [name + "/nct"], name=name + "/nct"),
            helper.make_node("Mul", [name + "/nct", const(name + "/sign", sign)], [name + "/flip"],
                             name=name + "/flip"),
            helper.make_node("Relu", [name + "/flip"], [name + "/relu"], name=name + "/relu"),
            helper.make_node("Mul", [name + "/relu", name + "/sign"], [name + "/bn"], name=name + "/bn"),
        ]
        if add is not None:
            tail.append(helper.make_node("Add", [name + "/bn", const(name + "/shift", shift.reshape(-1, 1))],
                                         [name + "/shifted"], name=name + "/shifted"))
        tail[-1].output[0] = squeeze.output[0]
        dropped = [relu, mul, pool, squeeze] + ([add] if add is not None else [])
        at = next(i for i, n in enumerate(nodes) if n is conv) + 1
        nodes[at:at] = tail
        nodes = [n for n in nodes if all(n is not d for d in dropped)]
        rewritten += 1
    for source, transpose in transposed.items():
        at = next((i + 1 for i, n in enumerate(nodes) if source in n.output), 0)
        nodes.insert(at, transpose)
    set_nodes(g, nodes)
    return rewritten


FP16_MIN_SIZE = 1024  # initializers with at least this many values are stored as float16
FP16_REL_TOL = 2e-3  # max |fp16 - fp32| per output, relative to that output's largest |value|


def weights_to_fp16(model):
    """A copy of `model` whose large float initializers (the weights: 99.9% of the bytes) are stored
    as float16, each turned back into float32 by a Cast at the start of the graph, which tract
    and onnxruntime fold at load: the file halves and the arithmetic stays float32."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    casts, inits = [], []
    for init in g.initializer:
        a = numpy_helper.to_array(init)
        if init.data_type == onnx.TensorProto.FLOAT and a.size >= FP16_MIN_SIZE:
            if np.max(np.abs(a)) >= 65504:
                fail("initializer %s does not fit float16" % init.name)
            inits.append(numpy_helper.from_array(a.astype(np.float16), init.name + "_fp16"))
            casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name],
                                          to=onnx.TensorProto.FLOAT, name=init.name + "_cast"))
        else:
            inits.append(init)
    del g.initializer[:]
    g.initializer.extend(inits)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m, full_check=True)
    return m


_RANKS = {}


def _rank_of(model, name):
    if not _RANKS:
        inferred = onnx.shape_inference.infer_shapes(model)
        for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
            if vi.type.tensor_type.HasField("shape"):
                _RANKS[vi.name] = len(vi.type.tensor_type.shape.dim)
    return _RANKS.get(name, 4)


def canonicalize(model):
    """tf2onnx is not deterministic in which of several identical nodes it keeps and in its generated
    names (even with a fixed hash seed). Make the graph canonical: identical initializers merged,
    identical nodes (same op, attributes and canonical inputs) merged, nodes in a topological order
    with ties broken by a structural hash, names from that order. The computation is unchanged."""
    g = model.graph
    # One list of the node wrappers, held for the whole pass: id() below must name one node each
    # (protobuf makes wrappers on access; an unheld one can be freed and its id reused).
    graph_nodes = list(g.node)
    cid = {vi.name: "input:" + vi.name for vi in g.input}
    init_by_id = {}
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        h = hashlib.sha256(("%d%s" % (init.data_type, list(init.dims))).encode() + arr.tobytes()).hexdigest()
        cid[init.name] = "const:" + h
        init_by_id.setdefault("const:" + h, init)
    producers_left = {}
    consumers = {}
    for n in graph_nodes:
        producers_left[id(n)] = sum(1 for i in set(n.input) if i and i not in cid)
        for i in set(n.input):
            consumers.setdefault(i, []).append(n)
    import heapq
    ready, order, seen = [], [], {}
    visited = 0

    def push(n):
        attrs = sorted((a.name, a.SerializeToString(deterministic=True)) for a in n.attribute)
        key = hashlib.sha256(repr((n.domain, n.op_type, attrs, [cid[i] if i else "" for i in n.input]))
                             .encode()).hexdigest()
        heapq.heappush(ready, (key, id(n), n))

    for n in graph_nodes:
        if producers_left[id(n)] == 0:
            push(n)
    while ready:
        key, _, n = heapq.heappop(ready)
        visited += 1
        dup = key in seen
        for j, o in enumerate(n.output):
            cid[o] = cid[seen[key].output[j]] if dup else "%s:%d" % (key, j)
            for c in consumers.get(o, []):
                producers_left[id(c)] -= 1
                if producers_left[id(c)] == 0:
                    push(c)
        if dup:
            continue
        seen[key] = n
        order.append(n)
    if visited != len(graph_nodes):
        fail("canonicalize: %d of %d nodes reachable in topological order" % (visited, len(graph_nodes)))
    graph_outputs = {vi.name for vi in g.output}
    final = {}
    for vi in g.input:
        final[cid[vi.name]] = vi.name
    inits = []
    for idx, n in enumerate(order):
        for i in n.input:
            if i and cid[i].startswith("const:") and cid[i] not in final:
                final[cid[i]] = "w%d" % len(inits)
                inits.append((final[cid[i]], init_by_id[cid[i]]))
        for j, o in enumerate(n.output):
            if o in graph_outputs:
                final[cid[o]] = o
            elif cid[o] not in final:
                final[cid[o]] = "%s_%d" % (n.op_type, idx) + ("" if j == 0 else "_%d" % j)
    for vi in g.output:
        if final.get(cid[vi.name]) != vi.name:
            fail("canonicalize: graph output %s was merged with another value" % vi.name)
    new_nodes = []
    for idx, n in enumerate(order):
        m = onnx.NodeProto()
        m.CopyFrom(n)
        # A node that makes a graph output is named after it (tract names outlets by node).
        outs = [o for o in n.output if o in graph_outputs]
        m.name = outs[0] if outs else "%s_%d" % (n.op_type, idx)
        del m.input[:]
        m.input.extend([final[cid[i]] if i else "" for i in n.input])
        del m.output[:]
        m.output.extend([final[cid[o]] for o in n.output])
        new_nodes.append(m)
    new_inits = []
    for name, init in inits:
        t = onnx.TensorProto()
        t.CopyFrom(init)
        t.name = name
        new_inits.append(t)
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    del g.value_info[:]


def set_batch_dim(model):
    for vi in list(model.graph.input) + list(model.graph.output):
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_param = "batch"
    # Stale intermediate shapes (with tf2onnx's unk__ names) are dropped; shape inference redoes them.
    del model.graph.value_info[:]


def convert(frozen):
    model, _ = tf2onnx.convert.from_graph_def(
        frozen, name="musicnn_msd", input_names=["model/mel:0"],
        output_names=[k + ":0" for k in OUTPUTS], opset=OPSET)
    rename_value(model, "model/mel:0", "mel")
    for k in OUTPUTS:
        rename_value(model, k + ":0", k)
    _RANKS.clear()
    folded = fold_batchnorm(model)
    log("folded %d BatchNormalization nodes into Mul+Add" % folded)
    rewritten = pool_on_conv_output(model)
    log("rewrote %d Conv -> ReLU -> batch norm -> MaxPool branches to pool the convolution first" % rewritten)
    if rewritten != 5:
        fail("expected to rewrite the 5 front-end branches, rewrote %d" % rewritten)
    set_batch_dim(model)
    canonicalize(model)
    model.doc_string = ("musicnn MSD_musicnn (musicnn 0.1.0 by Jordi Pons, MTG-UPF, ISC licence), converted by "
                        "tools/musicnn/convert.py. Input: log10(10000*mel+1) patches [batch, 187 frames, 96 mels] "
                        "(16 kHz, n_fft 512, hop 256). logits: 50 MSD tag logits before the sigmoid.")
    del model.metadata_props[:]
    for k, v in [("source", "musicnn 0.1.0 (PyPI), checkpoint musicnn/MSD_musicnn"), ("license", "ISC"),
                 ("tags", json.dumps(config.MSD_LABELS))]:
        p = model.metadata_props.add()
        p.key, p.value = k, v
    # Only the default domain is used: drop tf2onnx's extra opset imports (ai.onnx.ml).
    used = {n.domain for n in model.graph.node}
    keep = [o for o in model.opset_import if o.domain in used or o.domain in ("", "ai.onnx")]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    # Checked with full shape inference, saved without value_info (intermediate shapes would carry
    # extra symbolic dims, unk__N, that all stand for the batch).
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    for vi in inferred.graph.output:
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        if dims[1:] != {"logits": [50], "mean_pool": [753], "max_pool": [753], "penultimate": [200]}[vi.name]:
            fail("unexpected inferred shape of %s: %s" % (vi.name, dims))
    return model


# ---------------------------------------------------------------- audio (musicnn's own preprocessing)


def musicnn_batch(path):
    """musicnn.extractor.batch_data itself (non-overlapping 187-frame patches, as extractor()
    with input_overlap=False). Returns (batch float16 [n,187,96], audio_rep float16 [T,96])."""
    batch, audio_rep = mextractor.batch_data(path, N_FRAMES, N_FRAMES)
    return batch, audio_rep


def mel_steps(path):
    """The same steps spelled out, to expose the intermediates (and check we match batch_data)."""
    y, sr = librosa.load(path, sr=config.SR)
    power = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE,
                                           n_mels=config.N_MELS).T
    rep = np.log10(10000 * power.astype(np.float16) + 1)
    return y, power, rep


# ---------------------------------------------------------------- helpers


def r6(a):
    """Nested lists rounded to 6 significant digits."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return float("%.6g" % a)
    return [r6(v) for v in a]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def versions():
    import scipy
    import soxr
    return {
        "python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
        "librosa": librosa.__version__, "soxr": soxr.__version__, "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__, "tensorflow": tf.__version__,
        "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
        "musicnn": "0.1.0",
    }


PREPROCESSING = {
    "function": "musicnn.extractor.batch_data(path, n_frames=187, overlap=187)",
    "load": "librosa.load(path, sr=16000): mono = mean of channels, resampled with res_type='soxr_hq' "
            "(skipped when the file is already 16 kHz), float32",
    "melspectrogram": "librosa.feature.melspectrogram(y=y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T",
    "stft": {"n_fft": 512, "hop_length": 256, "win_length": 512, "window": "hann (periodic)", "center": True,
             "pad_mode": "constant (zeros), librosa 0.10 default", "power": 2.0, "dtype": "complex64"},
    "mel_filters": {"sr": 16000, "n_fft": 512, "n_mels": 96, "fmin": 0.0, "fmax": 8000.0, "htk": False,
                    "norm": "slaney"},
    "log": "audio_rep = np.log10(10000 * mel_power.astype(np.float16) + 1): the mel power is rounded to "
           "float16 first; the product is float32 (numpy promotes float16 * int 10000 to float32)",
    "patches": "patch i = audio_rep[187*i : 187*i + 187] for i while 187*i + 187 <= n_frames (no overlap, "
               "the trailing partial patch is dropped; a clip shorter than 187 frames gives none)",
    "n_frames_for_n_samples": "1 + n_samples // 256 (center=True)",
}


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gtzan", default=os.environ.get(
        "MUSICNN_GTZAN", os.path.join(os.path.dirname(REPO), "shared", "data", "gtzan")),
        help="GTZAN folder (read only; used for the rock sanity check and parity, never copied)")
    ap.add_argument("--parity-npz", default=os.environ.get(
        "MUSICNN_PARITY_NPZ", os.path.join(os.path.expanduser("~"), ".cache", "musicat", "musicnn-parity.npz")),
        help="where to write all parity patches + TensorFlow outputs for check_tract.py (outside the repo: "
             "it holds GTZAN-derived data)")
    args = ap.parse_args()

    rock_clip = os.path.join(args.gtzan, "rock", "rock.00000.ogg")
    extra_clip = os.path.join(args.gtzan, "classical", "classical.00000.ogg")
    if not os.path.isfile(rock_clip):
        fail("GTZAN rock clip not found: %s (set MUSICNN_GTZAN or --gtzan)" % rock_clip)

    vers = versions()
    log("versions: " + json.dumps(vers))

    graph, sess, x, outs, labels = build_and_restore()

    # --- preprocessing (musicnn's own) of all inputs
    inputs = {}
    for rel in PARITY_FIXTURES:
        inputs["tests/fixtures/" + rel] = os.path.join(FIXTURES, rel)
    inputs["gtzan/rock/rock.00000.ogg"] = rock_clip
    if os.path.isfile(extra_clip):
        inputs["gtzan/classical/classical.00000.ogg"] = extra_clip
    batches = {}
    for key, path in inputs.items():
        batch, rep = musicnn_batch(path)
        batches[key] = (batch, rep)
        log("%-45s audio_rep %s -> %d patches" % (key, rep.shape, batch.shape[0]))

    # --- TF reference outputs
    tf_out = {k: tf_run(sess, x, outs, b) for k, (b, _) in batches.items()}

    # --- sanity: rock clip
    for key in [k for k in batches if k.startswith("gtzan/")]:
        p = sigmoid(tf_out[key]["logits"]).mean(axis=0)
        top = [labels[i] for i in np.argsort(-p)[:5]]
        log("%s: top-5 MSD tags (mean over patches): %s" % (key, ", ".join(
            "%s %.3f" % (t, p[labels.index(t)]) for t in top)))
        if "rock" in key and not (top[0] in ROCKISH):
            fail("rock clip's top tag is %r, not rock-ish: weights not restored?" % top[0])

    # --- freeze + convert
    frozen = freeze(graph, sess)
    model = convert(frozen)
    os.makedirs(OUT_MODEL_DIR, exist_ok=True)
    onnx_path = os.path.join(OUT_MODEL_DIR, "musicnn_msd.onnx")
    onnx.save(model, onnx_path)
    size = os.path.getsize(onnx_path)
    ops = sorted({n.op_type for n in model.graph.node})
    log("wrote %s (%d bytes, opset %d, %d nodes)" % (onnx_path, size, OPSET, len(model.graph.node)))
    log("op types: " + ", ".join(ops))
    if "BatchNormalization" in ops:
        fail("BatchNormalization left in the graph")
    io = {}
    for vi in list(model.graph.input) + list(model.graph.output):
        io[vi.name] = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    log("io: " + json.dumps(io))

    # --- ONNX vs TF
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    osess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    sess64, x64, outs64 = build_float64()
    maxdiff = {k: 0.0 for k in OUTPUTS}
    excess = {k: 0.0 for k in OUTPUTS}  # max |onnx - tf| / elementwise tolerance
    err64 = {k: [0.0, 0.0] for k in OUTPUTS}  # max |tf32 - f64|, max |onnx - f64|
    n_patches = 0
    ort_out = {}
    for key, (batch, _) in batches.items():
        res = osess.run(OUTPUTS, {"mel": batch.astype(np.float32)})
        ort_out[key] = dict(zip(OUTPUTS, res))
        # dynamic batch: one patch at a time gives the same
        for i in range(batch.shape[0]):
            one = osess.run(OUTPUTS, {"mel": batch[i:i + 1].astype(np.float32)})
            for k, v in zip(OUTPUTS, one):
                if not np.allclose(v[0], ort_out[key][k][i], atol=TOL, rtol=0):
                    fail("batch-of-1 differs from batched run for %s patch %d %s" % (key, i, k))
        n_patches += batch.shape[0]
        t64 = tf_run(sess64, x64, outs64, batch, np.float64)
        for k in OUTPUTS:
            ad = np.abs(ort_out[key][k] - tf_out[key][k])
            maxdiff[k] = max(maxdiff[k], float(np.max(ad)))
            tol = TOL + (TOL_REL_MAX_POOL * np.abs(tf_out[key][k]) if k == "max_pool" else 0.0)
            excess[k] = max(excess[k], float(np.max(ad / tol)))
            err64[k][0] = max(err64[k][0], float(np.max(np.abs(tf_out[key][k] - t64[k]))))
            err64[k][1] = max(err64[k][1], float(np.max(np.abs(ort_out[key][k] - t64[k]))))
    log("over %d patches from %d files:" % (n_patches, len(batches)))
    for k in OUTPUTS:
        log("  %-12s %-6s max |onnx - tf32| %.3g (%.2f of the bound); vs float64: tf32 %.3g, onnx %.3g" % (
            k, list(ort_out[key][k].shape[1:]), maxdiff[k], excess[k], err64[k][0], err64[k][1]))
    bad = [k for k in OUTPUTS if not excess[k] <= 1.0]
    if bad:
        fail("ONNX differs from TensorFlow by more than the bound on %s" % bad)
    bad = [k for k in OUTPUTS if not err64[k][1] <= 2 * err64[k][0] + 1e-6]
    if bad:
        fail("ONNX is much further from the float64 result than TensorFlow float32 on %s" % bad)

    # --- sigmoid(logits) == musicnn's own taggram (musicnn.extractor.extractor), and its features.
    # musicnn 0.1.0 bug: for every patch after the first, extractor() appends the FIRST patch's
    # penultimate again (it concatenates `penultimate_` instead of `backend_`), so only patch 0 of
    # its features['penultimate'] is compared.
    tag_diff = {}
    for key in ["tests/fixtures/mel_input.wav", "gtzan/rock/rock.00000.ogg"]:
        taggram, mlabels, feats = mextractor.extractor(inputs[key], model=MODEL, input_length=3,
                                                       input_overlap=False, extract_features=True)
        if list(mlabels) != list(labels):
            fail("label lists differ")
        o = ort_out[key]
        cmp = {
            "taggram": (sigmoid(o["logits"]), taggram, TOL),
            "mean_pool": (o["mean_pool"], feats["mean_pool"], TOL),
            "max_pool": (o["max_pool"], feats["max_pool"], TOL + TOL_REL_MAX_POOL * np.abs(feats["max_pool"])),
            "penultimate[patch 0]": (o["penultimate"][:1], feats["penultimate"][:1], TOL),
        }
        for name, (a, b, tol) in cmp.items():
            if a.shape != b.shape:
                fail("shape of musicnn's %s %s != %s" % (name, b.shape, a.shape))
            d = float(np.max(np.abs(a - b)))
            tag_diff[name] = max(tag_diff.get(name, 0.0), d)
            if not np.all(np.abs(a - b) <= tol):
                fail("onnx %s differs from musicnn.extractor()'s on %s by %.3g" % (name, key, d))
    log("max |onnx - musicnn.extractor()|: " + ", ".join("%s %.3g" % kv for kv in tag_diff.items()))

    # --- all patches and TF outputs, for check_tract.py (kept out of the repo)
    os.makedirs(os.path.dirname(os.path.abspath(args.parity_npz)), exist_ok=True)
    arrays = {"keys": np.array(list(batches.keys()))}
    for i, (key, (batch, _)) in enumerate(batches.items()):
        arrays["mel_%d" % i] = batch.astype(np.float32)
        for k in OUTPUTS:
            arrays["%s_%d" % (k, i)] = tf_out[key][k]
    np.savez_compressed(args.parity_npz, **arrays)
    log("wrote %s (for check_tract.py)" % args.parity_npz)

    # --- assets
    with open(os.path.join(OUT_MODEL_DIR, "musicnn_msd.tags.json"), "w") as f:
        json.dump(list(labels), f, indent=1)
        f.write("\n")
    lic_src = glob.glob(os.path.join(os.path.dirname(PKG_DIR), "musicnn-0.1.0.dist-info", "LICENSE*"))
    if len(lic_src) != 1:
        fail("musicnn LICENSE not found in the dist-info")
    with open(lic_src[0]) as f:
        lic = f.read().strip()
    with open(os.path.join(OUT_MODEL_DIR, "LICENSE-musicnn.txt"), "w") as f:
        f.write("musicnn_msd.onnx is converted from the MSD_musicnn model of musicnn 0.1.0\n"
                "(https://github.com/jordipons/musicnn, PyPI 'musicnn', Jordi Pons, 2019), licensed under the\n"
                "ISC licence. Its notice, as shipped in the package (musicnn-0.1.0.dist-info/LICENSE.md):\n\n")
        f.write("ISC License\n\n" + lic + "\n")

    # --- parity references for the Rust front end
    os.makedirs(OUT_REF_DIR, exist_ok=True)
    ref_files = {}

    def outputs_json(key):
        o = ort_out[key]
        t = tf_out[key]
        return {
            "note": "TensorFlow outputs of the restored checkpoint for each patch (rows); onnxruntime on "
                    "musicnn_msd.onnx agrees within the max_abs_diff_onnx_vs_tf listed",
            "logits": {"shape": list(t["logits"].shape), "values": r6(t["logits"])},
            "taggram_sigmoid": {"shape": list(t["logits"].shape), "values": r6(sigmoid(t["logits"]))},
            "mean_pool": {"shape": list(t["mean_pool"].shape), "values": r6(t["mean_pool"])},
            "max_pool": {"shape": list(t["max_pool"].shape), "values": r6(t["max_pool"])},
            "penultimate": {"shape": list(t["penultimate"].shape), "values": r6(t["penultimate"])},
            "max_abs_diff_onnx_vs_tf": {k: float("%.3g" % np.max(np.abs(o[k] - t[k]))) for k in OUTPUTS},
        }

    def ref_for(key, frames, with_power):
        path = inputs[key]
        batch, rep = batches[key]
        y, power, rep2 = mel_steps(path)
        if not np.array_equal(rep2, rep):
            fail("spelled-out preprocessing differs from musicnn.extractor.batch_data on " + key)
        info = soundfile.info(path)
        frames = list(range(rep.shape[0])) if frames is None else frames
        d = {
            "source": key,
            "source_sha256": sha256(path),
            "source_sample_rate": info.samplerate,
            "source_channels": info.channels,
            "n_samples_16k": int(y.shape[0]),
            "preprocessing": PREPROCESSING,
            "audio_rep": {
                "note": "musicnn's log-mel audio_rep (float16 values, rows = frames, cols = 96 mel bands); "
                        "only the rows listed in 'frames' are stored",
                "shape": list(rep.shape), "frames": frames, "values": r6(rep[frames].astype(np.float32)),
            },
            "patches": {"n_frames": N_FRAMES, "starts": [N_FRAMES * i for i in range(batch.shape[0])],
                        "shape": list(batch.shape)},
            "outputs": outputs_json(key),
            "versions": vers,
        }
        if with_power:
            d["mel_power"] = {
                "note": "librosa.feature.melspectrogram(...).T in float32, before the float16 cast; same rows",
                "shape": list(power.shape), "frames": frames, "values": r6(power[frames]),
            }
        return d, y

    # 1. mel_input.wav: every frame, plus the 16 kHz waveform librosa.load gives (soxr_hq).
    d, y = ref_for("tests/fixtures/mel_input.wav", None, True)
    d["waveform_16k_file"] = "mel_input_16k.f32"
    y.astype("<f4").tofile(os.path.join(OUT_REF_DIR, "mel_input_16k.f32"))
    ref_files["mel_input.json"] = d
    # 2. silence6s_tone6s_16000_mono.wav: already 16 kHz (no resampling), 751 frames, 4 patches.
    #    Frames kept: start (silence), around the 6 s onset (frame 375), patch borders, end.
    fr = list(range(0, 4)) + list(range(185, 190)) + list(range(370, 381)) + list(range(559, 564)) + \
        list(range(744, 751))
    d, _ = ref_for("tests/fixtures/audio/silence6s_tone6s_16000_mono.wav", fr, True)
    ref_files["silence6s_tone6s_16000_mono.json"] = d
    # 3. music_12s_22050_mono.flac: music, resampled, 4 patches; a few frames only.
    fr = list(range(0, 4)) + list(range(186, 189)) + list(range(372, 376)) + list(range(560, 563)) + \
        list(range(745, 751))
    d, _ = ref_for("tests/fixtures/audio/music_12s_22050_mono.flac", fr, False)
    ref_files["music_12s_22050_mono.json"] = d

    for name, d in ref_files.items():
        with open(os.path.join(OUT_REF_DIR, name), "w") as f:
            json.dump(d, f, separators=(",", ":"))
            f.write("\n")

    # --- float16 weights: checked against the float32 graph verified above, then shipped
    fp32_bytes = size
    model16 = weights_to_fp16(model)
    onnx.save(model16, onnx_path)
    size = os.path.getsize(onnx_path)
    sess16 = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    rel16 = {k: 0.0 for k in OUTPUTS}
    for key, (batch, _) in batches.items():
        res = dict(zip(OUTPUTS, sess16.run(OUTPUTS, {"mel": batch.astype(np.float32)})))
        for k in OUTPUTS:
            scale = max(1.0, float(np.max(np.abs(ort_out[key][k]))))
            rel16[k] = max(rel16[k], float(np.max(np.abs(res[k] - ort_out[key][k]))) / scale)
    log("float16 weights: %d -> %d bytes; max |fp16 - fp32| / largest |value|: %s" % (
        fp32_bytes, size, ", ".join("%s %.2g" % kv for kv in rel16.items())))
    bad = [k for k in OUTPUTS if not rel16[k] <= FP16_REL_TOL]
    if bad:
        fail("float16 weights move %s by more than %g of the largest value" % (bad, FP16_REL_TOL))
    ops = sorted({n.op_type for n in model16.graph.node})

    summary = {
        "float16_weights": {"float32_bytes": fp32_bytes, "bytes": size,
                            "max_rel_diff_vs_float32": {k: float("%.3g" % rel16[k]) for k in OUTPUTS},
                            "bound": FP16_REL_TOL},
        "onnx": {"file": "models/backbone/musicnn_msd.onnx", "bytes": size, "sha256": sha256(onnx_path),
                 "opset": OPSET, "io": io, "op_types": ops},
        "max_abs_diff_onnx_vs_tf": {k: float("%.3g" % maxdiff[k]) for k in OUTPUTS},
        "max_abs_diff_tf32_vs_float64": {k: float("%.3g" % err64[k][0]) for k in OUTPUTS},
        "max_abs_diff_onnx_vs_float64": {k: float("%.3g" % err64[k][1]) for k in OUTPUTS},
        "max_abs_diff_onnx_vs_musicnn_extractor": {k: float("%.3g" % v) for k, v in tag_diff.items()},
        "parity_inputs": {k: int(b.shape[0]) for k, (b, _) in batches.items()},
        "versions": vers,
    }
    with open(os.path.join(OUT_MODEL_DIR, "musicnn_msd.conversion.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    log("summary: " + json.dumps(summary))
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(OUT_REF_DIR, "*")))
    log("reference data: %d bytes in %s" % (total, OUT_REF_DIR))
    log("OK")


if __name__ == "__main__":
    main()
