#!/usr/bin/env python3
"""Runs models/backbone/musicnn_msd.onnx with tract (the Python bindings of tract 0.23, the engine the
Rust side uses) on every parity patch convert.py saved, and compares with TensorFlow under the
bounds of convert.py (float32 graph, plus the float16 weights' bound relative to each output's largest
value). Exits non-zero on a mismatch. Run through convert.sh (needs Python >= 3.9)."""

import importlib.metadata
import os
import sys

import numpy as np
import tract

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUTPUTS = ["logits", "mean_pool", "max_pool", "penultimate"]
TOL, TOL_REL_MAX_POOL, FP16_REL_TOL = 1e-4, 2e-5, 2e-3  # as in convert.py


def main():
    npz = sys.argv[1]
    model = tract.onnx().load(os.path.join(REPO, "models", "backbone", "musicnn_msd.onnx"))
    names = [model.output_name(i) for i in range(model.output_count())]
    if model.input_name(0) != "mel" or names != OUTPUTS:
        sys.exit("unexpected io names: %s -> %s" % (model.input_name(0), names))
    runnable = model.into_model().into_runnable()
    data = np.load(npz)
    keys = list(data["keys"])
    worst = {k: 0.0 for k in OUTPUTS}
    excess = {k: 0.0 for k in OUTPUTS}
    n = 0
    for i, key in enumerate(keys):
        mel = np.ascontiguousarray(data["mel_%d" % i])
        outs = [o.to_numpy() for o in runnable.run([mel])]
        n += mel.shape[0]
        for k, got in zip(OUTPUTS, outs):
            ref = data["%s_%d" % (k, i)]
            if got.shape != ref.shape:
                sys.exit("%s %s: tract shape %s, tf %s" % (key, k, got.shape, ref.shape))
            ad = np.abs(got - ref)
            tol = TOL + (TOL_REL_MAX_POOL * np.abs(ref) if k == "max_pool" else 0.0)
            tol = tol + FP16_REL_TOL * max(1.0, float(np.abs(ref).max()))
            worst[k] = max(worst[k], float(ad.max()))
            excess[k] = max(excess[k], float((ad / tol).max()))
    print("tract %s, %d patches from %d files:" % (importlib.metadata.version("tract"), n, len(keys)))
    for k in OUTPUTS:
        print("  %-12s max |tract - tf32| %.3g (%.2f of the bound)" % (k, worst[k], excess[k]))
    bad = [k for k in OUTPUTS if not excess[k] <= 1.0]
    if bad:
        sys.exit("FAILED: tract differs from TensorFlow beyond the bound on %s" % bad)
    print("tract OK")


if __name__ == "__main__":
    main()
