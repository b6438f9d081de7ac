#!/usr/bin/env bash
# Seeds the fuzz corpora from the committed fixtures: every audio fixture (behind its extension
# byte) for `decode`, and every fixture model bundle (sidecar length, sidecar, ONNX) for `model_bundle`.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/decode corpus/model_bundle
i=0
for f in ../tests/fixtures/audio/* ../tests/fixtures/bad/* ../tests/fixtures/mel_input.wav; do
    case "$f" in *.mp3) e=0 ;; *.wav) e=1 ;; *.flac) e=2 ;; *.ogg) e=3 ;; *.m4a) e=4 ;; *) e=1 ;; esac
    { printf "\\x$(printf %02x $e)"; head -c 200000 "$f"; } > "corpus/decode/seed-$i"
    i=$((i + 1))
done
for json in ../tests/models/*/*.json ../tests/models/hostile/*/*.json; do
    onnx="${json%.json}.onnx"
    [ -f "$onnx" ] || continue
    n=$(stat -c %s "$json")
    { printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))"; cat "$json" "$onnx"; } > "corpus/model_bundle/$(basename "$(dirname "$json")")-$(basename "$json" .json)"
done
echo "seeded $(ls corpus/decode | wc -l) decode and $(ls corpus/model_bundle | wc -l) model_bundle inputs"
