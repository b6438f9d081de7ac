"""What the rewrite steps of the converted musicnn graph share (prune_dead.py, fold_dead_chains.py,
fast_front_end.py, pool_over_time.py, temporal_toeplitz.py): new constants, node ordering, dropping
what nothing reads, and `apply`, their command line: the onnxruntime comparison of the rewritten
graph with the one before it, writing it, and the conversion record's update."""
import hashlib
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCES = os.path.join(HERE, "..", "..", "tests", "reference", "musicnn")


def constant(new_inits, name, value, dtype=np.float32):
    """Adds an initializer `name` holding `value` to `new_inits`; returns its name."""
    new_inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
    return name


def links(graph):
    """(producer of each tensor, consumers of each tensor) of the graph's nodes."""
    producer = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    return producer, consumers


def topologically_sorted(graph, nodes):
    """Replaces the graph's nodes with `nodes`, each placed after everything it reads."""
    placed = set(i.name for i in graph.initializer) | set(i.name for i in graph.input)
    order, pending = [], list(nodes)
    while pending:
        progress = False
        for n in list(pending):
            if all(i in placed or i == "" for i in n.input):
                order.append(n)
                placed.update(n.output)
                pending.remove(n)
                progress = True
        if not progress:
            raise SystemExit(f"cannot order nodes: {[n.name for n in pending]}")
    del graph.node[:]
    graph.node.extend(order)


def without_unused(graph):
    """Drops the nodes and initializers nothing reads any more, and the stale shape annotations."""
    outputs = {o.name for o in graph.output}
    while True:
        read = {i for n in graph.node for i in n.input} | outputs
        unused = [n for n in graph.node if not any(o in read for o in n.output)]
        if not unused:
            break
        for n in unused:
            graph.node.remove(n)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.value_info[:]


def replace_nodes(model, removed, new_nodes, new_inits):
    """Swaps the nodes named in `removed` for `new_nodes` (with their initializers `new_inits`), keeps
    the graph sorted, drops what nothing reads any more, and checks the model."""
    graph = model.graph
    graph.initializer.extend(new_inits)
    topologically_sorted(graph, [n for n in graph.node if n.name not in removed] + new_nodes)
    without_unused(graph)
    onnx.checker.check_model(model)


def patches(parity=None):
    """Input patches to compare graphs on: convert.py's parity patches when given, else the ones
    stored with the parity references in tests/reference/musicnn/; and three random batches."""
    found = []
    if parity:
        data = np.load(parity)
        found += [data[k] for k in data.files if k.startswith("mel_")]
    else:
        for name in sorted(os.listdir(REFERENCES)):
            if name.endswith(".json"):
                with open(os.path.join(REFERENCES, name)) as f:
                    rep = json.load(f).get("audio_rep")
                if rep and "values" in rep:
                    values = np.asarray(rep["values"], np.float32)
                    found += [values[s:s + 187][None] for s in range(0, len(values) - 186, 187)]
    rng = np.random.RandomState(0)
    return found + [(rng.rand(3, 187, 96) * 4).astype(np.float32) for _ in range(3)]


def compare(before, after, label, parity=None):
    """Max |difference| / max(1, |output|) per output of two ONNX models (onnxruntime), printed."""
    sessions = [ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]) for m in (before, after)]
    worst, inputs = {}, patches(parity)
    for x in inputs:
        a, b = (s.run(None, {"mel": x}) for s in sessions)
        for out, u, v in zip(sessions[0].get_outputs(), a, b):
            scale = max(1.0, float(np.abs(u).max()))
            worst[out.name] = max(worst.get(out.name, 0.0), float(np.abs(u - v).max()) / scale)
    print(f"{label}, on {sum(len(x) for x in inputs)} patches, max |difference| / max(1, |output|):",
          {k: f"{v:.1e}" for k, v in worst.items()})
    return worst


def apply(rewrite, key, argv):
    """The command line of every rewrite step: MODEL.onnx [PARITY.npz [CONVERSION.json]] (PARITY.npz:
    convert.py's parity patches; without it, the patches stored in tests/reference/musicnn/).
    `rewrite(model)` changes the model in place and returns what it did (a dict, printed and recorded
    under `key` in CONVERSION.json), or None when there is nothing to do. The rewritten graph's outputs
    must stay within 1e-5 of the largest value of the graph before (onnxruntime), else nothing is written."""
    path, parity, record = (list(argv) + [None, None])[:3]
    original, model = onnx.load(path), onnx.load(path)
    done = rewrite(model)
    if done is None:
        print(f"{key}: nothing to do")
        return
    print(f"{key}: {done}")
    worst = compare(original, model, f"{key} vs the graph before", parity)
    if max(worst.values()) > 1e-5:
        raise SystemExit(f"{key}: the rewritten graph's outputs differ: not written")
    onnx.save(model, path)
    print(f"wrote {path}")
    if not record:
        return
    with open(record) as f:
        conversion = json.load(f)
    with open(path, "rb") as f:
        data = f.read()
    conversion["onnx"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              op_types=sorted({n.op_type for n in model.graph.node}))
    conversion[key] = dict(done, max_rel_diff_vs_before=worst)
    with open(record, "w") as f:
        json.dump(conversion, f, indent=1)
        f.write("\n")
    print(f"updated {record}")
