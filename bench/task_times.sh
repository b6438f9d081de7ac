#!/usr/bin/env bash
# Time per 3-minute track of each task's model on its own, natively (`classify`) and in the
# browser app (headless Chromium), for models/REPORT.md: the shipped head on the musicnn backbone,
# and (with --other) the networks trained from scratch for the same task. Also all shipped models together.
# Each configuration is a models folder holding only that bundle (and the backbone it names);
# `classify --models` reads it natively, and the app is served with it as its shipped models.
# Writes models/speed.json (read by `train --report-only`) and prints a markdown table.
#
#   bash bench/task_times.sh [--runs N] [--other ARCH=DIR]... [--dist DIST]
#
# --other ARCH=DIR (e.g. cnn=/tmp/cnn, seed=/tmp/seed): DIR/<task>/<task>.onnx + .json for genre, mood,
#   style and sounds, made with `train --data ../shared/data --task <task> --arch ARCH --epochs 1
#   --out DIR/<task>` (time does not depend on the weights; the report's accuracy of that network
#   comes from its full training, recorded in the shipped sidecar as `baseline_ARCH`).
# --dist DIST: a release build of the app (default: `trunk build index.html --release` into dist/).
# The track is bench/common.sh's synthesised 3-minute MP3 (as compare.sh's); descriptors run in both (as users get them),
# and natively once more without them (`--no-descriptors`: decoding and the model alone).
set -euo pipefail
source "$(dirname "$0")/common.sh"

RUNS=3; OTHERS=(); DIST="$ROOT/dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift ;;
        --other) OTHERS+=("${2%%=*}=$(cd "${2#*=}" && pwd)"); shift ;;
        --dist) DIST="$(cd "$2" && pwd)"; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "task_times.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
TASKS="genre mood style sounds"

need_apt ffmpeg ffmpeg
need_apt hyperfine hyperfine
need_apt node nodejs npm
build_classify
if [ ! -f "$DIST/index.html" ]; then
    say "building the app (trunk build --release)"
    bash "$ROOT/scripts/install-wasm-tools.sh"
    (cd "$ROOT" && trunk build index.html --release --dist "$DIST")
fi
(cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --silent)
MP3="$(track 180)"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
# config NAME BUNDLE_DIR TASK: a models folder with that one bundle and the backbone it names.
config() {
    local dir="$OUT/$1" from="$2" task="$3"
    mkdir -p "$dir"
    cp "$from/$task.onnx" "$from/$task.json" "$dir/"
    local backbone
    backbone="$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1])).get("backbone") or {}).get("file", ""))' "$dir/$task.json")"
    if [ -n "$backbone" ]; then
        mkdir -p "$dir/$(dirname "$backbone")"
        cp "$from/$backbone" "$dir/$backbone"
    fi
    printf '{"bundles": ["%s"]}\n' "$task" > "$dir/index.json"
    echo "$dir"
}
CONFIGS=()
for t in $TASKS; do
    CONFIGS+=("$(config "head_$t" "$MODELS" "$t")")
    for other in "${OTHERS[@]}"; do CONFIGS+=("$(config "${other%%=*}_$t" "${other#*=}/$t" "$t")"); done
done
cp -r "$MODELS" "$OUT/all"
CONFIGS+=("$OUT/all")

STARTED="$(date -u '+%Y-%m-%d %H:%M UTC')"
COMMAND="bash bench/task_times.sh --runs $RUNS$(for o in "${OTHERS[@]}"; do printf ' --other %s=DIR' "${o%%=*}"; done)"
for dir in "${CONFIGS[@]}"; do
    name="$(basename "$dir")"
    say "$name: classify, $RUNS runs (+1 warm-up)"
    hyperfine -N --style none --runs "$RUNS" --warmup 1 --export-json "$OUT/native_$name.json" \
        "$CLASSIFY --models $dir --format json $MP3" \
        "$CLASSIFY --models $dir --format json --no-descriptors $MP3" >&2
done
say "browser: $RUNS fresh loads per configuration"
(cd "$ROOT/tests/browser" && DIST="$DIST" TRACK="$MP3" RUNS="$RUNS" node bench_tasks.mjs "${CONFIGS[@]}") \
    | tee "$OUT/browser.jsonl" >&2

python3 - "$OUT" "$MODELS/speed.json" "$STARTED" "$RUNS" "$COMMAND" "$(git -C "$ROOT" rev-parse --short HEAD)" \
    "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" <<'EOF'
import json, statistics, sys
from pathlib import Path
out, target, started, runs, command, commit, machine = sys.argv[1:]
browser = {}
for line in (Path(out) / "browser.jsonl").read_text().splitlines():
    row = json.loads(line)
    browser.setdefault(row["config"], []).append(row["ms"] / 1000)
rows = []
for native in sorted(Path(out).glob("native_*.json")):
    config = native.stem.removeprefix("native_")
    kind, _, task = config.rpartition("_") if config != "all" else ("all", "", "")
    with_descriptors, models_only = (r["times"] for r in json.loads(native.read_text())["results"])
    rows.append({
        "config": config,
        "task": task or "all",
        "model": {"head": "musicnn-head", "all": "shipped"}.get(kind, kind),
        "native_seconds": round(statistics.median(with_descriptors), 3),
        "native_models_only_seconds": round(statistics.median(models_only), 3),
        "browser_seconds": round(statistics.median(browser[config]), 3) if config in browser else None,
        "native_runs": [round(t, 3) for t in with_descriptors],
        "native_models_only_runs": [round(t, 3) for t in models_only],
        "browser_runs": browser.get(config, []),
    })
speed = {
    "measured": started,
    "commit": commit,
    "machine": machine,
    "track": "3-minute MP3, 44.1 kHz stereo, 192 kb/s (bench/common.sh's synthesised track)",
    "runs": int(runs),
    "command": command,
    "native": "classify --models <folder> --format json, median wall time (hyperfine); also with --no-descriptors (decoding and the model only)",
    "browser": "drop to verdict in headless Chromium after a 30-s warm-up clip, fresh profile per run, median (tests/browser/bench_tasks.mjs)",
    "rows": rows,
}
Path(target).write_text(json.dumps(speed, indent=2) + "\n")
print(f"| configuration | native (s) | native, no descriptors (s) | browser (s) |\n|---|---:|---:|---:|")
for r in rows:
    b = "–" if r["browser_seconds"] is None else f'{r["browser_seconds"]:.2f}'
    print(f'| {r["config"]} | {r["native_seconds"]:.2f} | {r["native_models_only_seconds"]:.2f} | {b} |')
print(f"\nwritten to {target}")
EOF
