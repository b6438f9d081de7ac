#!/usr/bin/env python3
"""Compares `classify --format json` lines with reference.py lines, file by file.

    parity.py MUSICAT.jsonl REFERENCE.jsonl [--tolerance 1e-3] [--model-rate 22050]

Files whose sample rate equals the models' rate are compared strictly: same label for every
task and every score within the tolerance, or the exit code is 1. Files that need resampling
(Musicat: rubato; librosa.load: soxr) are reported in their own table and, unless `--strict-resampled`,
do not fail the check. Tasks the reference skipped (sidecars it does not handle) are listed, not compared.
"""

import argparse
import json
import sys

import soundfile


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                rows[row["path"]] = row
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("musicat")
    ap.add_argument("reference")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--model-rate", type=int, default=22050)
    ap.add_argument("--strict-resampled", action="store_true", help="fail on resampled files too")
    args = ap.parse_args()
    ours, ref = read(args.musicat), read(args.reference)
    failures, not_compared = [], set()
    tables = {"native": [], "resampled": []}
    worst = {"native": 0.0, "resampled": 0.0}
    for path in sorted(set(ours) - set(ref)):
        failures.append(f"{path}: no reference row")
    if not ref:
        failures.append("no reference row at all")
    for path in sorted(ref):
        r, m = ref[path], ours.get(path)
        rate = soundfile.info(path).samplerate
        kind = "native" if rate == args.model_rate else "resampled"
        strict = kind == "native" or args.strict_resampled
        if m is None:
            failures.append(f"{path}: no Musicat row")
            continue
        if (r.get("error") is None) != (m.get("error") is None):
            tables[kind].append(f"| {path} | {rate} | error mismatch: musicat={m.get('error')!r} reference={r.get('error')!r} | | |")
            if strict:
                failures.append(f"{path}: one side failed")
            continue
        if r.get("error") is not None:
            tables[kind].append(f"| {path} | {rate} | both refuse: {r['error']} | | |")
            continue
        not_compared |= set(m["tasks"]) - set(r["tasks"])
        max_diff, disagree = 0.0, []
        for task, rv in r["tasks"].items():
            mv = m["tasks"].get(task)
            if mv is None:
                disagree.append(f"{task}: missing in Musicat")
                continue
            if mv["label"] != rv["label"]:
                disagree.append(f"{task}: {mv['label']} ≠ {rv['label']}")
            for label, score in rv["scores"].items():
                max_diff = max(max_diff, abs(mv["scores"][label] - score))
        seg_m = sum(1 for s in m.get("segments", []) if not s["silent"])
        seg_r = sum(1 for s in r.get("segments", []) if not s["silent"])
        if seg_m != seg_r:
            disagree.append(f"{seg_m} non-silent segments ≠ {seg_r}")
        worst[kind] = max(worst[kind], max_diff)
        ok = not disagree and max_diff <= args.tolerance
        tables[kind].append(f"| {path} | {rate} | {'agree' if not disagree else '; '.join(disagree)} | {max_diff:.2e} | {'ok' if ok else 'FAIL' if strict else 'over'} |")
        if strict and not ok:
            failures.append(f"{path}: {'; '.join(disagree) or 'labels agree'}, max score difference {max_diff:.2e}")
    for kind, title in (("native", f"at the models' rate ({args.model_rate} Hz): strict"),
                        ("resampled", "resampled (Musicat: rubato, librosa: soxr_hq)" + (": strict" if args.strict_resampled else ": reported only"))):
        print(f"\n### Files {title} — max score difference {worst[kind]:.2e} (tolerance {args.tolerance:g})\n")
        print("| file | rate | labels | max score diff | verdict |\n|---|---:|---|---:|---|")
        print("\n".join(tables[kind]) or "| (none) | | | | |")
    if not_compared:
        print(f"\nTasks not compared (the reference skips their bundles): {', '.join(sorted(not_compared))}")
    if failures:
        print("\nPARITY FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"\nPARITY OK: native-rate max score difference {worst['native']:.2e}, resampled {worst['resampled']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
