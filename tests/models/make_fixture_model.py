#!/usr/bin/env python3
"""Write Musicat's tiny ONNX test models (random weights, fixed seeds) and sidecars.

Run from the repository root with the venv of tests/reference/requirements.txt:

    /work/venv-ref/bin/python tests/models/make_fixture_model.py

Writes:
  tests/models/fixture/genre.onnx + genre.json   3 labels, the good fixture
  tests/models/fixture/mood.onnx  + mood.json    4 labels, a second task
  tests/models/fixture/expected_logits.json      onnxruntime outputs for fixed inputs
  tests/models/mismatch/genre.onnx + genre.json  sidecar has 4 labels, model outputs 3
  tests/models/badshape/genre.onnx + genre.json  sidecar says n_mels 64, model wants 128

Architecture (opset 17, IR version 8 so older onnxruntime builds load it):
  mel [batch,1,128,216] -> Conv(1->4, 3x3, pad 1) -> Relu -> GlobalAveragePool
  -> Flatten -> Gemm(4 -> n_labels) -> logits [batch,n_labels]   (no softmax)
These are NOT trained models: the weights are random.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "models"
N_MELS, N_FRAMES = 128, 216
OPSET, IR_VERSION = 17, 8

GENRE_SEED, MOOD_SEED = 20240601, 20240602


def build_model(n_labels, seed, graph_name):
    rng = np.random.default_rng(seed)
    conv_w = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    conv_b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    gemm_w = (rng.standard_normal((n_labels, 4)) * 0.5).astype(np.float32)
    gemm_b = (rng.standard_normal(n_labels) * 0.1).astype(np.float32)

    inits = [
        numpy_helper.from_array(conv_w, "conv.weight"),
        numpy_helper.from_array(conv_b, "conv.bias"),
        numpy_helper.from_array(gemm_w, "fc.weight"),
        numpy_helper.from_array(gemm_b, "fc.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["mel", "conv.weight", "conv.bias"], ["conv_out"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
        helper.make_node("GlobalAveragePool", ["relu_out"], ["pool_out"], name="pool"),
        helper.make_node("Flatten", ["pool_out"], ["flat_out"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat_out", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         alpha=1.0, beta=1.0, transA=0, transB=1),
    ]
    inp = helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", 1, N_MELS, N_FRAMES])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels])
    graph = helper.make_graph(nodes, graph_name, [inp], [out], initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="musicat-tests/make_fixture_model.py",
        producer_version="1",
        doc_string=f"Musicat test fixture: random weights (numpy seed {seed}), not a trained model.",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def sidecar(task, labels, n_mels=N_MELS):
    return {
        "format_version": 1,
        "task": task,
        "labels": labels,
        "sample_rate": 22050,
        "n_fft": 2048,
        "hop_length": 512,
        "n_mels": n_mels,
        "fmin": 0.0,
        "fmax": 11025.0,
        "power": 2.0,
        "db_ref": "max",
        "top_db": 80.0,
        "segment_seconds": 5.0,
        "segment_hop_seconds": 5.0,
        "input_shape": [1, n_mels, N_FRAMES],
        "trained_on": "random weights: test fixture, not a trained model",
        "metrics": {},
    }


def write(dirname, task, model_bytes, meta):
    d = MODELS / dirname
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{task}.onnx").write_bytes(model_bytes)
    (d / f"{task}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return d / f"{task}.onnx"


def run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(["logits"], {"mel": x})
    return out


def pattern_input():
    """A deterministic, easy-to-rebuild input in [-80, 0] dB:
    x[0, 0, m, t] = -80 * ((7*m + 3*t) % 17) / 16."""
    m = np.arange(N_MELS)[:, None]
    t = np.arange(N_FRAMES)[None, :]
    return (-80.0 * ((7 * m + 3 * t) % 17) / 16.0).astype(np.float32)[None, None]


def librosa_segments():
    """Mel dB (ref=max per segment, top_db 80) of the two full 5 s segments of
    tests/fixtures/audio/music_12s_22050_mono.flac, computed as the sidecar describes."""
    import librosa
    import soundfile as sf

    y, sr = sf.read(REPO / "tests/fixtures/audio/music_12s_22050_mono.flac", dtype="float32")
    assert sr == 22050
    seg = int(5.0 * sr)  # 110250 samples -> 1 + 110250 // 512 = 216 frames
    mels = []
    for k in range(2):
        s = librosa.feature.melspectrogram(y=y[k * seg:(k + 1) * seg], sr=sr, n_fft=2048,
                                           hop_length=512, n_mels=N_MELS, fmin=0.0, fmax=11025.0, power=2.0)
        db = librosa.power_to_db(s, ref=np.max, amin=1e-10, top_db=80.0)
        assert db.shape == (N_MELS, N_FRAMES), db.shape
        mels.append(db)
    return np.stack(mels)[:, None].astype(np.float32)


def main():
    genre = build_model(3, GENRE_SEED, "musicat_fixture_genre").SerializeToString()
    mood = build_model(4, MOOD_SEED, "musicat_fixture_mood").SerializeToString()

    genre_labels = ["alpha", "beta", "gamma"]
    mood_labels = ["happy", "tense", "sad", "calm"]
    paths = {
        "fixture/genre": write("fixture", "genre", genre, sidecar("genre", genre_labels)),
        "fixture/mood": write("fixture", "mood", mood, sidecar("mood", mood_labels)),
        "mismatch/genre": write("mismatch", "genre", genre,
                                sidecar("genre", genre_labels + ["delta"])),
        "badshape/genre": write("badshape", "genre", genre, sidecar("genre", genre_labels, n_mels=64)),
    }

    # Verify every file: checker on disk, then onnxruntime on a random batch of 2.
    rng = np.random.default_rng(0)
    batch = rng.uniform(-80.0, 0.0, size=(2, 1, N_MELS, N_FRAMES)).astype(np.float32)
    for key, p in paths.items():
        onnx.checker.check_model(str(p), full_check=True)
        out = run(p, batch)
        n = 3 if "genre" in key else 4
        assert out.shape == (2, n) and np.all(np.isfinite(out)), (key, out.shape)
        print(f"{key:16s} {p.stat().st_size:5d} B  logits[batch=2] = {np.round(out, 5).tolist()}")

    # Expected outputs for Rust-side inference parity tests.
    pat = pattern_input()
    zeros = np.zeros((1, 1, N_MELS, N_FRAMES), np.float32)
    floor = np.full((1, 1, N_MELS, N_FRAMES), -80.0, np.float32)
    segs = librosa_segments()
    expected = {
        "note": "onnxruntime " + ort.__version__ + " CPU outputs of fixture/genre.onnx and "
                "fixture/mood.onnx; compare with an absolute tolerance of ~1e-4.",
        "inputs": {
            "zeros": "all 0.0, shape [1,1,128,216]",
            "floor": "all -80.0, shape [1,1,128,216]",
            "pattern": "x[0,0,m,t] = -80 * ((7*m + 3*t) % 17) / 16, m in 0..128, t in 0..216",
            "music_12s_segments": "batch of 2: segments 0 (0-5 s) and 1 (5-10 s) of "
                                  "tests/fixtures/audio/music_12s_22050_mono.flac, each "
                                  "librosa.power_to_db(librosa.feature.melspectrogram(y=seg, sr=22050), "
                                  "ref=np.max, amin=1e-10, top_db=80) on its own (ref = max of that "
                                  "segment); only the two full segments, the 2 s tail is not covered",
        },
        "genre": {}, "mood": {},
    }
    for task in ("genre", "mood"):
        p = paths[f"fixture/{task}"]
        for name, x in (("zeros", zeros), ("floor", floor), ("pattern", pat), ("music_12s_segments", segs)):
            expected[task][name] = [[float(v) for v in row] for row in run(p, x)]
    (MODELS / "fixture" / "expected_logits.json").write_text(json.dumps(expected, indent=2) + "\n")
    print("expected_logits.json written")


if __name__ == "__main__":
    main()
