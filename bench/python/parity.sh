#!/usr/bin/env bash
# Parity check: Musicat `classify` against the librosa + onnxruntime reference on the committed
# fixtures (tests/fixtures/audio/*.flac|wav|mp3|ogg). Fails unless, on every file at the models'
# rate, both give the same label for every task and every score within 1e-3. Files that need
# resampling are compared and reported in their own table (rubato and soxr differ): pass
# --strict-resampled to make them fail the check too. Those same files, resampled beforehand by
# soxr and written at the models' rate, are checked strictly.
#
#   bash bench/python/parity.sh [--strict-resampled] [--tolerance 1e-3]
set -euo pipefail
source "$(dirname "$0")/../common.sh"

ensure_venv
build_classify
TASKS="$(reference_tasks)"
RATES="$(for t in ${TASKS//,/ }; do "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["sample_rate"])' "$MODELS/$t.json"; done | sort -u)"
if [ "$(echo "$RATES" | wc -l)" -ne 1 ]; then echo "parity.sh: the models use several rates ($RATES)" >&2; exit 2; fi

cd "$ROOT"
shopt -s nullglob
FILES=(tests/fixtures/audio/*.flac tests/fixtures/audio/*.wav tests/fixtures/audio/*.mp3 tests/fixtures/audio/*.ogg)
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
say "classify on ${#FILES[@]} fixtures, tasks $TASKS"
"$CLASSIFY" --models "$MODELS" --task "$TASKS" --format json "${FILES[@]}" > "$OUT/musicat.jsonl" || true
say "reference.py on the same files"
"$PY" "$REFERENCE" --models "$MODELS" --task "$TASKS" "${FILES[@]}" > "$OUT/reference.jsonl" || true
# The same signals with the resampling taken out: every fixture not at the models' rate, resampled
# by librosa.load (soxr) and written as a float WAV at that rate, goes through both tools too
# and is compared strictly, so a difference left in the resampled table is the resamplers'.
mkdir -p "$OUT/soxr-$RATES"
"$PY" - "$RATES" "$OUT/soxr-$RATES" "${FILES[@]}" <<'PYEOF'
import os, sys
import librosa, soundfile
rate, out = int(sys.argv[1]), sys.argv[2]
for path in sys.argv[3:]:
    if soundfile.info(path).samplerate != rate:
        y = librosa.load(path, sr=rate, mono=True)[0]
        soundfile.write(os.path.join(out, os.path.basename(path) + ".wav"), y, rate, subtype="FLOAT")
PYEOF
SOXR=("$OUT/soxr-$RATES"/*.wav)
say "both tools on ${#SOXR[@]} of them resampled beforehand by soxr ($OUT/soxr-$RATES)"
"$CLASSIFY" --models "$MODELS" --task "$TASKS" --format json "${SOXR[@]}" >> "$OUT/musicat.jsonl" || true
"$PY" "$REFERENCE" --models "$MODELS" --task "$TASKS" "${SOXR[@]}" >> "$OUT/reference.jsonl" || true
"$PY" "$ROOT/bench/python/parity.py" --model-rate "$RATES" "$@" "$OUT/musicat.jsonl" "$OUT/reference.jsonl"
