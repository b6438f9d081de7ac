#!/usr/bin/env bash
# Side-by-side benchmark: Musicat `classify` against the librosa + onnxruntime reference
# (bench/python/reference.py), cold (one process per track) and warm (models and libraries
# loaded, timed inside one process), with `ffmpeg` decoding alone as a floor. Tracks: 30 s,
# 3 min and 1 h MP3 (44.1 kHz stereo, 192 kb/s, synthesised deterministically, cached in
# $HOME/.cache/musicat/bench-audio). Prints a markdown table: median wall time of several runs
# (hyperfine), real-time factor, peak RSS (/usr/bin/time), CPU time and the Python/Musicat ratio.
#
#   bash bench/compare.sh [--quick] [--runs N] [--tracks 30,180,3600]
#
# --quick: 3 runs and no warm-up run, 30 s and 3 min tracks only (a couple of minutes).
# Installs what it lacks: ffmpeg, hyperfine, time (apt-get), the Python venv (pip, outside the
# repository), and builds `classify` in release (CARGO_TARGET_DIR=$HOME/.cache/musicat/target-bench).
set -euo pipefail
source "$(dirname "$0")/common.sh"

RUNS=5; LONG_RUNS=3; WARMUP=1; TRACKS="30,180,3600"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) RUNS=3; LONG_RUNS=3; WARMUP=0; TRACKS="30,180" ;;
        --runs) RUNS="$2"; LONG_RUNS="$2"; shift ;;
        --tracks) TRACKS="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

need_apt ffmpeg ffmpeg
need_apt hyperfine hyperfine
[ -x /usr/bin/time ] || need_apt /usr/bin/time time
ensure_venv
build_classify
TASKS="$(reference_tasks)"
ALL_BUNDLES="$(cd "$MODELS" && for f in *.onnx; do [ -f "${f%.onnx}.json" ] && echo "${f%.onnx}"; done | paste -sd, -)"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
STARTED="$(date -u '+%Y-%m-%d %H:%M UTC')"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for s in ${TRACKS//,/ }; do
    mp3="$(track "$s")"
    runs=$RUNS; warmup=$WARMUP
    if [ "$s" -ge 600 ]; then runs=$LONG_RUNS; warmup=0; fi
    say "track ${s} s: hyperfine, $runs runs (+$warmup warm-up) of each command"
    rss="$OUT/rss_${s}"
    hyperfine -N --style basic --runs "$runs" --warmup "$warmup" --export-json "$OUT/hyperfine_${s}.json" \
        -n ffmpeg "/usr/bin/time -f %M -a -o $rss.ffmpeg ffmpeg -nostdin -v error -i $mp3 -f null -" \
        -n musicat "/usr/bin/time -f %M -a -o $rss.musicat $CLASSIFY --models $MODELS --task $TASKS --format json $mp3" \
        -n musicat_bare "/usr/bin/time -f %M -a -o $rss.musicat_bare $CLASSIFY --models $MODELS --task $TASKS --no-descriptors --format json $mp3" \
        -n python_cold "/usr/bin/time -f %M -a -o $rss.python_cold $PY $REFERENCE --models $MODELS --task $TASKS $mp3" \
        >&2
    say "track ${s} s: Python warm, 1 warm-up + $runs timed runs in one process"
    /usr/bin/time -f %M -o "$rss.python_warm" \
        "$PY" "$REFERENCE" --models "$MODELS" --task "$TASKS" --warm "$runs" "$mp3" > "$OUT/warm_${s}.json"
    ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp3" > "$OUT/duration_${s}"
done

echo
echo "## Musicat vs librosa + onnxruntime — $STARTED"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB;" \
     "load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)."
SKIPPED="$(comm -23 <(tr , '\n' <<< "$ALL_BUNDLES" | sort) <(tr , '\n' <<< "$TASKS" | sort) | paste -sd, -)"
echo "Tasks: $TASKS (both tools)${SKIPPED:+; not run: $SKIPPED (sidecar keys reference.py does not handle, so Musicat skips them too)}."
echo "Runs: median of $RUNS (1-hour track: $LONG_RUNS), hyperfine $(hyperfine --version | cut -d' ' -f2), warm-up runs $WARMUP."
echo
"$PY" "$ROOT/bench/python/summarize.py" "$OUT" ${TRACKS//,/ }
