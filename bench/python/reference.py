#!/usr/bin/env python3
"""Musicat's pipeline written the usual Python way: librosa + onnxruntime.

For each file: librosa.load at the sidecar's rate (mono) → segments of `segment_seconds`
(Musicat's rules, see src/features/segment.rs) → librosa.feature.melspectrogram +
power_to_db with the sidecar's parameters → the same ONNX model in onnxruntime → softmax →
mean of the segment probabilities. Prints one JSON object per line per file, shaped like
`classify --format json` (path, duration_s, tasks{label, score, scores}, segments, error).

Heads on a pretrained backbone (musicnn) are handled too: `scale: log10_compressed` gives
log10(1 + 10000·mel), `layout: frames_by_mels` transposes the input, the backbone ONNX named by
`backbone.file` runs once per batch and the head takes its named outputs, concatenated;
`activation: sigmoid` scores tags independently. A sidecar with a key this script does not know
is skipped, with a note on stderr.

    reference.py [--models DIR] [--task genre,mood] [PATH...]
    reference.py --list-tasks                 # tasks it handles, comma separated
    reference.py --warm RUNS PATH...          # in-process timing: 1 warm-up + RUNS timed runs per file,
                                              # with each stage's median (load+resample, mel, inference)
"""

import argparse
import glob
import json
import math
import os
import resource
import statistics
import sys
import time

import librosa
import numpy as np
import onnxruntime as ort

# Seconds spent per stage, summed over the files of this process (--stages prints them).
STAGES = {"load": 0.0, "mel": 0.0, "inference": 0.0}
# Sidecar keys whose meaning this script reproduces (src/model/sidecar.rs, src/features/params.rs).
FEATURE_KEYS = {
    "sample_rate", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "power", "db_ref", "top_db",
    "segment_seconds", "segment_hop_seconds", "scale", "layout",
}
KNOWN_KEYS = FEATURE_KEYS | {
    "format_version", "task", "labels", "input_shape", "trained_on", "metrics", "label_details",
    "backbone", "activation",
}
# Peak below which a segment is digital silence (src/features/segment.rs: SILENCE_PEAK).
SILENCE_PEAK = np.float32(1.0 / 32768.0)
# librosa.load's resampler (librosa's default; --res-type changes it, for experiments).
RES_TYPE = "soxr_hq"
# Segments per onnxruntime call.
BATCH = 8  # as Musicat (src/analyze.rs); 32 is no faster here and doubles the peak RSS


def f32(x):
    """The value as Musicat holds it (`f32` in the sidecar structs)."""
    return float(np.float32(x))


def round_half_away(x):
    """Rust's `f64::round` for x >= 0 (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5))


class Features:
    """A sidecar's feature parameters with Musicat's defaults (src/features/params.rs)."""

    def __init__(self, side):
        self.sample_rate = int(side["sample_rate"])
        self.n_fft = int(side["n_fft"])
        self.hop_length = int(side["hop_length"])
        self.n_mels = int(side["n_mels"])
        self.fmin = f32(side.get("fmin", 0.0))
        self.fmax = f32(side["fmax"])
        self.power = f32(side.get("power", 2.0))
        self.db_ref = side.get("db_ref", "max")
        top = side.get("top_db", 80.0)
        self.top_db = None if top is None else f32(top)
        self.segment_seconds = f32(side.get("segment_seconds", 5.0))
        # Musicat's default hop is 5 s whatever the length (params.rs: default_segment_seconds).
        self.segment_hop_seconds = f32(side.get("segment_hop_seconds", 5.0))
        self.scale = side.get("scale", "decibels")
        self.layout = side.get("layout", "mels_by_frames")
        if self.scale not in ("decibels", "log10_compressed") or self.layout not in ("mels_by_frames", "frames_by_mels"):
            raise ValueError(f"scale {self.scale!r} / layout {self.layout!r} not handled")
        if self.db_ref not in ("max", "one"):
            raise ValueError(f"db_ref {self.db_ref!r} is neither 'max' nor 'one'")

    def key(self):
        return tuple(sorted(vars(self).items()))

    def segment_samples(self):
        return round_half_away(self.segment_seconds * self.sample_rate)

    def segment_hop_samples(self):
        return max(1, round_half_away(self.segment_hop_seconds * self.sample_rate))

    def frames(self):
        return 1 + self.segment_samples() // self.hop_length


BACKBONES = {}


def session(onnx_path):
    return ort.InferenceSession(onnx_path, ort.SessionOptions(), providers=["CPUExecutionProvider"])


class Bundle:
    def __init__(self, onnx_path, side):
        self.task = side["task"]
        self.labels = list(side["labels"])
        self.features = Features(side)
        self.session = session(onnx_path)
        self.input_name = self.session.get_inputs()[0].name
        self.sigmoid = side.get("activation", "softmax") == "sigmoid"
        self.backbone, self.backbone_outputs = None, []
        if side.get("backbone"):
            path = os.path.join(os.path.dirname(onnx_path), side["backbone"]["file"])
            if path not in BACKBONES:
                BACKBONES[path] = session(path)
            self.backbone, self.backbone_outputs = path, list(side["backbone"]["outputs"])


def load_models(models_dir, tasks=None):
    """Bundles of `models_dir` (every `<name>.onnx` with a `<name>.json`), as Models::load_dir finds them."""
    bundles, skipped = [], []
    for onnx_path in sorted(glob.glob(os.path.join(models_dir, "*.onnx"))):
        json_path = onnx_path[: -len(".onnx")] + ".json"
        if not os.path.isfile(json_path):
            continue
        with open(json_path) as f:
            side = json.load(f)
        unknown = sorted(set(side) - KNOWN_KEYS)
        name = side.get("task", os.path.basename(onnx_path))
        if unknown:
            skipped.append((name, unknown))
            continue
        if tasks and name not in tasks:
            continue
        bundles.append(Bundle(onnx_path, side))
    for name, unknown in skipped:
        print(f"reference.py: skipping bundle `{name}`: sidecar keys not handled here: {', '.join(unknown)}",
              file=sys.stderr)
    if tasks:
        missing = sorted(set(tasks) - {b.task for b in bundles})
        if missing:
            raise SystemExit(f"reference.py: no usable bundle for task(s) {', '.join(missing)}")
    if not bundles:
        raise SystemExit(f"reference.py: no usable model bundle in {models_dir}")
    return bundles


def segments(y, length, hop):
    """(start, valid, samples[length], silent) of each segment, by src/features/segment.rs's rules:
    whole segments every `hop` samples; then the rest, zero padded, if it holds at least half a
    segment of audio not in the previous segment, or if the whole signal was shorter than a segment."""
    n = len(y)
    start, emitted = 0, 0
    while start + length <= n:
        seg = y[start:start + length]
        yield start, length, seg, bool(np.all(np.abs(seg) < SILENCE_PEAK))
        start += hop
        emitted += 1
    rest = y[start:]
    if emitted == 0:
        keep = len(rest) > 0
    else:
        fresh = max(0, len(rest) - max(0, length - hop))
        keep = fresh * 2 >= length
    if keep:
        padded = np.zeros(length, dtype=np.float32)
        padded[:len(rest)] = rest
        yield start, len(rest), padded, bool(np.all(np.abs(rest) < SILENCE_PEAK))


def log_mel(seg, p):
    """The model input of one segment: [1, n_mels, frames] dB, or [frames, n_mels] log-compressed."""
    mel = librosa.feature.melspectrogram(
        y=seg, sr=p.sample_rate, n_fft=p.n_fft, hop_length=p.hop_length, n_mels=p.n_mels,
        fmin=p.fmin, fmax=p.fmax, power=p.power,
    )
    if p.scale == "log10_compressed":
        values = np.log10(1.0 + 10000.0 * mel)
    else:
        values = librosa.power_to_db(mel, ref=np.max if p.db_ref == "max" else 1.0, top_db=p.top_db)
    return values.T if p.layout == "frames_by_mels" else values[None, :, :]


def scores(b, x, cache):
    """Probabilities of bundle `b` for the batch `x` (backbone outputs shared through `cache`)."""
    if b.backbone is None:
        logits = b.session.run(None, {b.input_name: x})[0]
    else:
        if b.backbone not in cache:
            backbone = BACKBONES[b.backbone]
            names = [o.name for o in backbone.get_outputs()]
            cache[b.backbone] = dict(zip(names, backbone.run(None, {backbone.get_inputs()[0].name: x})))
        embedding = np.concatenate([cache[b.backbone][n] for n in b.backbone_outputs], axis=1)
        logits = b.session.run(None, {b.input_name: embedding.astype(np.float32)})[0]
    logits = logits.astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logits)) if b.sigmoid else softmax(logits)


def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classify(path, bundles):
    """One file's report, shaped like a line of `classify --format json`."""
    groups = {}
    for b in bundles:
        groups.setdefault(b.features.key(), (b.features, []))[1].append(b)
    audio = {}
    tasks, timeline = {}, {}
    duration_s = None
    for p, members in groups.values():
        if p.sample_rate not in audio:
            t0 = time.perf_counter()
            audio[p.sample_rate] = librosa.load(path, sr=p.sample_rate, mono=True, res_type=RES_TYPE)[0]
            STAGES["load"] += time.perf_counter() - t0
        y = audio[p.sample_rate]
        if duration_s is None:
            duration_s = len(y) / p.sample_rate
        inputs, spans = [], []
        for start, valid, seg, silent in segments(y, p.segment_samples(), p.segment_hop_samples()):
            span = (start / p.sample_rate, (start + valid) / p.sample_rate)
            timeline.setdefault((round_half_away(span[0] * 1000), round_half_away(span[1] * 1000)),
                                {"start_s": span[0], "end_s": span[1], "silent": silent, "tasks": {}})
            if silent:
                continue
            t0 = time.perf_counter()
            inputs.append(log_mel(seg, p))
            STAGES["mel"] += time.perf_counter() - t0
            spans.append(span)
        if not inputs:
            continue
        t0 = time.perf_counter()
        per_task = {b.task: [] for b in members}
        for i in range(0, len(inputs), BATCH):
            x = np.stack(inputs[i:i + BATCH]).astype(np.float32)
            cache = {}  # the backbone runs once per batch for all its heads, as in Musicat
            for b in members:
                per_task[b.task].append(scores(b, x, cache))
        for b in members:
            probs = np.concatenate(per_task[b.task])
            means = probs.mean(axis=0)
            best = int(np.argmax(means))
            tasks[b.task] = {
                "label": b.labels[best],
                "score": float(np.float32(means[best])),
                "scores": {l: float(np.float32(m)) for l, m in zip(b.labels, means)},
            }
            for span, row in zip(spans, probs):
                j = int(np.argmax(row))
                key = (round_half_away(span[0] * 1000), round_half_away(span[1] * 1000))
                timeline[key]["tasks"][b.task] = {"label": b.labels[j], "score": float(np.float32(row[j]))}
        STAGES["inference"] += time.perf_counter() - t0
    if not tasks:
        return {"path": path, "duration_s": None,
                "error": f"the file contains only digital silence ({duration_s or 0:.1f} s); there is nothing to classify"}
    return {"path": path, "duration_s": duration_s, "tasks": dict(sorted(tasks.items())),
            "segments": [timeline[k] for k in sorted(timeline)], "error": None}


def main():
    global RES_TYPE, BATCH
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.normpath(os.path.join(here, "..", "..", "models")))
    ap.add_argument("--task", default="", help="tasks to run, comma separated (default: every usable bundle)")
    ap.add_argument("--list-tasks", action="store_true", help="print the tasks this script can run and exit")
    ap.add_argument("--no-segments", action="store_true", help="leave the per-segment timeline out")
    ap.add_argument("--warm", type=int, metavar="RUNS",
                    help="time RUNS runs per file after one untimed warm-up, in this process; print timings")
    ap.add_argument("--stages", action="store_true", help="print seconds per stage (load+resample, mel, inference) to stderr")
    ap.add_argument("--batch", type=int, default=BATCH, help="segments per onnxruntime call (default %(default)s)")
    ap.add_argument("--res-type", default=RES_TYPE, help="librosa.load resampler (default %(default)s)")
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    RES_TYPE, BATCH = args.res_type, max(1, args.batch)
    tasks = [t for t in args.task.split(",") if t]
    bundles = load_models(args.models, tasks)
    if args.list_tasks:
        print(",".join(sorted(b.task for b in bundles)))
        return 0
    if not args.paths:
        ap.error("no PATH given")
    failed = False
    for path in args.paths:
        if args.warm:
            classify(path, bundles)
            times, stages = [], []
            for _ in range(args.warm):
                before = dict(STAGES)
                t0 = time.perf_counter()
                classify(path, bundles)
                times.append(time.perf_counter() - t0)
                stages.append({k: STAGES[k] - before[k] for k in STAGES})
            print(json.dumps({
                "path": path, "runs": args.warm, "median_s": statistics.median(times), "times_s": times,
                "stages_median_s": {k: statistics.median(run[k] for run in stages) for k in STAGES},
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }), flush=True)
            continue
        try:
            row = classify(path, bundles)
        except Exception as e:  # a file that cannot be read fails its own row, as in classify
            row = {"path": path, "duration_s": None, "error": f"{type(e).__name__}: {e}"}
        if args.no_segments:
            row.pop("segments", None)
        failed |= row["error"] is not None
        print(json.dumps(row), flush=True)
    if args.stages:
        print(json.dumps({"stages_s": STAGES}), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
