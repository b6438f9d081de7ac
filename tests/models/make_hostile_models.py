#!/usr/bin/env python3
"""Write hostile model bundles for tests/models.rs (needs the `onnx` package).

Run from the repository root:  /work/venv-ref/bin/python tests/models/make_hostile_models.py

Writes tests/models/hostile/<case>/genre.onnx + genre.json, each with the good fixture's sidecar
(3 labels, [batch, 1, 128, 216] input):
  nan/          a valid model whose logits are NaN (0 / 0 times the input's mean)
  absurd_dims/  a weight initializer that declares 1e5 x 1e5 floats (40 GB) but holds 12 bytes
  huge_output/  a model that asks for a [batch, 2^40] tensor (ConstantOfShape) before its output
Licence: CC0 1.0 (our own work).
"""

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "models" / "hostile"
SIDECAR = json.loads((REPO / "tests/models/fixture/genre.json").read_text())
SIDECAR["trained_on"] = "hostile test fixture, not a trained model"


def save(case, graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="musicat-tests")
    model.ir_version = 8
    d = OUT / case
    d.mkdir(parents=True, exist_ok=True)
    (d / "genre.onnx").write_bytes(model.SerializeToString())
    (d / "genre.json").write_text(json.dumps(SIDECAR, indent=2) + "\n")


inp = helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", 1, 128, 216])
out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])
mean_to_3 = [
    helper.make_node("GlobalAveragePool", ["mel"], ["pooled"]),
    helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
    helper.make_node("Gemm", ["flat", "w", "b"], ["gemm"], transB=1),
]
w = numpy_helper.from_array(np.ones((3, 1), np.float32), "w")
b = numpy_helper.from_array(np.zeros(3, np.float32), "b")

# NaN: logits = gemm * (0 / 0).
zero = numpy_helper.from_array(np.zeros(1, np.float32), "zero")
save("nan", helper.make_graph(
    mean_to_3 + [helper.make_node("Div", ["zero", "zero"], ["nan"]), helper.make_node("Mul", ["gemm", "nan"], ["logits"])],
    "nan", [inp], [out], initializer=[w, b, zero]))

# Absurd dimensions: the Gemm weight claims 100000 x 100000 floats but carries 3.
huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100000, 100000], raw_data=np.ones(3, np.float32).tobytes())
save("absurd_dims", helper.make_graph(mean_to_3[:2] + [helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], transB=1)],
                                      "absurd_dims", [inp], [out], initializer=[huge, b]))

# A huge intermediate: ConstantOfShape([1, 2^40]) reduced back to one value and added.
shape = numpy_helper.from_array(np.array([1, 1 << 40], np.int64), "shape")
save("huge_output", helper.make_graph(
    mean_to_3 + [
        helper.make_node("ConstantOfShape", ["shape"], ["big"], value=numpy_helper.from_array(np.zeros(1, np.float32))),
        helper.make_node("ReduceSum", ["big"], ["small"], keepdims=0),
        helper.make_node("Add", ["gemm", "small"], ["logits"]),
    ], "huge_output", [inp], [out], initializer=[w, b, shape]))
print("wrote", sorted(p.name for p in OUT.iterdir()))
