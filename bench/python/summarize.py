#!/usr/bin/env python3
"""Markdown table of a bench/compare.sh run: summarize.py OUT_DIR SECONDS...

OUT_DIR holds, per track of SECONDS: hyperfine_S.json (commands ffmpeg, musicat, musicat_bare, python_cold),
rss_S.<command> (one /usr/bin/time -f %M line per run, KiB), warm_S.json (reference.py --warm, with its stages),
rss_S.python_warm and duration_S (ffprobe seconds)."""

import json
import os
import sys


def rss_mb(path):
    with open(path) as f:
        values = [int(line) for line in f if line.strip().isdigit()]
    return max(values) / 1024 if values else float("nan")


def label(seconds):
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def main():
    out, tracks = sys.argv[1], [int(s) for s in sys.argv[2:]]
    print("| track | tool | median wall | × real time | peak RSS | CPU (user+sys) | Python / Musicat |")
    print("|---|---|---:|---:|---:|---:|---:|")
    floors = []
    for s in tracks:
        with open(os.path.join(out, f"duration_{s}")) as f:
            audio = float(f.read().strip())
        with open(os.path.join(out, f"hyperfine_{s}.json")) as f:
            results = {r["command"]: r for r in json.load(f)["results"]}
        with open(os.path.join(out, f"warm_{s}.json")) as f:
            warm = json.loads(f.read().strip().splitlines()[-1])
        rows = []
        for name, tool in (("ffmpeg", "`ffmpeg -f null` (decode only)"), ("musicat", "Musicat `classify`"),
                           ("musicat_bare", "Musicat `classify --no-descriptors` (the reference's work)"),
                           ("python_cold", "Python reference, cold")):
            r = results[name]
            rows.append((name, tool, r["median"], rss_mb(os.path.join(out, f"rss_{s}.{name}")),
                         f"{r['user'] + r['system']:.2f} s", len(r["times"])))
        rows.append(("python_warm", "Python reference, warm", warm["median_s"],
                     rss_mb(os.path.join(out, f"rss_{s}.python_warm")), "–", warm["runs"]))
        models_alone = warm["stages_median_s"]["inference"]
        rows.append(("models_alone", "onnxruntime running the models alone (the warm reference's inference stage)",
                     models_alone, None, "–", warm["runs"]))
        musicat = results["musicat"]["median"]
        for name, tool, median, rss, cpu, runs in rows:
            ratio = f"**{median / musicat:.1f}×**" if name.startswith("python") else "1" if name == "musicat" else f"{median / musicat:.2f}×"
            memory = "–" if rss is None else f"{rss:.0f} MB"
            print(f"| {label(s)} MP3 | {tool} | {median:.3f} s | {audio / median:.0f} | {memory} | {cpu} | {ratio} |")
        floors.append(f"- {label(s)} MP3: {results['python_cold']['median'] / 20:.3f} s; in this run decoding alone (`ffmpeg`) "
                      f"took {results['ffmpeg']['median']:.3f} s, onnxruntime running the models alone {models_alone:.3f} s.")
    print()
    print("Median wall of hyperfine runs (warm: in-process runs after one untimed run); × real time = audio s / wall s;")
    print("peak RSS = largest `/usr/bin/time` maximum resident set size over the runs (warm: the whole process,")
    print("warm-up included); CPU = mean user+system time per run; last column = this tool's median / Musicat's")
    print("(`classify` with its descriptors: tempo, key, loudness…, which the reference does not compute; the")
    print("`--no-descriptors` row does the reference's work: decode, log-mel, every task's model).")
    print()
    print("At 20× the cold reference's speed (the goal of issue 6), Musicat would have for the whole track (decode,")
    print("features, every model):")
    print()
    print("\n".join(floors))


if __name__ == "__main__":
    main()
