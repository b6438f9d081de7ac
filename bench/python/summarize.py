#!/usr/bin/env python3
"""Markdown table of a bench/compare.sh run: summarize.py OUT_DIR SECONDS...

OUT_DIR holds, per track of SECONDS: hyperfine_S.json (commands ffmpeg, musicat, musicat_bare, python_cold),
rss_S.<command> (one /usr/bin/time -f %M line per run, KiB), warm_S.json (reference.py --warm),
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
        musicat = results["musicat"]["median"]
        for name, tool, median, rss, cpu, runs in rows:
            ratio = f"**{median / musicat:.1f}×**" if name.startswith("python") else "1" if name == "musicat" else f"{median / musicat:.2f}×"
            print(f"| {label(s)} MP3 | {tool} | {median:.3f} s | {audio / median:.0f} | {rss:.0f} MB | {cpu} | {ratio} |")
    print()
    print("Median wall of hyperfine runs (warm: in-process runs after one untimed run); × real time = audio s / wall s;")
    print("peak RSS = largest `/usr/bin/time` maximum resident set size over the runs (warm: the whole process,")
    print("warm-up included); CPU = mean user+system time per run; last column = this tool's median / Musicat's")
    print("(`classify` with its descriptors: tempo, key, loudness…, which the reference does not compute; the")
    print("`--no-descriptors` row does the reference's work: decode, log-mel, every task's model).")


if __name__ == "__main__":
    main()
