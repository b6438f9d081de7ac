#!/usr/bin/env python3
"""Write the `tags` bundle: musicnn's own 50 MSD tags, as a head on the shared backbone.

Usage (convert.sh runs it):  python make_tags_head.py REPO_ROOT

The head is an Identity on the backbone's `logits` output; the sidecar asks Musicat to run the
backbone on musicnn's front end and to turn the logits into independent tag probabilities
(sigmoid). Writes models/tags.onnx and models/tags.json. Needs the `onnx` package.
"""

import json
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

repo = Path(sys.argv[1])
tags = json.loads((repo / "models/backbone/musicnn_msd.tags.json").read_text())

graph = helper.make_graph(
    [helper.make_node("Identity", ["logits"], ["tags"], name="tags")],
    "musicnn_msd_tags_head",
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(tags)])],
    [helper.make_tensor_value_info("tags", TensorProto.FLOAT, ["batch", len(tags)])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="musicat")
model.ir_version = 8
onnx.checker.check_model(model)
(repo / "models/tags.onnx").write_bytes(model.SerializeToString())

# musicnn's front end (see README.md): 16 kHz, n_fft 512, hop 256, 96 Slaney mel bands up to
# 8 kHz, log10(1 + 10000·power), 187-frame patches (47,616 samples) every 187 frames (47,872).
sidecar = {
    "format_version": 1,
    "task": "tags",
    "labels": tags,
    "sample_rate": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 8000.0,
    "power": 2.0,
    "db_ref": "max",
    "top_db": 80.0,
    "scale": "log10_compressed",
    "layout": "frames_by_mels",
    "segment_seconds": 2.976,
    "segment_hop_seconds": 2.992,
    "input_shape": [187, 96],
    "backbone": {"file": "backbone/musicnn_msd.onnx", "outputs": ["logits"]},
    "activation": "sigmoid",
    "trained_on": {
        "model": "musicnn MSD_musicnn (Pons & Serra 2019), pretrained on the Million Song Dataset's 50 most "
                 "frequent Last.fm tags; not trained by Musicat",
        "licence": "ISC, see models/backbone/LICENSE-musicnn.txt",
    },
    "metrics": {},
}
(repo / "models/tags.json").write_text(json.dumps(sidecar, indent=2) + "\n")
print(f"wrote models/tags.onnx ({len(model.SerializeToString())} bytes) and models/tags.json ({len(tags)} tags)")
