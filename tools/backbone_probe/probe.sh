#!/usr/bin/env bash
# Compares the four checkpoints of the musicnn wheel as embeddings for Musicat's tasks (see
# probe.py) and writes tools/backbone_probe/RESULTS.md. Needs the research data (default
# ../shared/data), Python 3.8 for TensorFlow (pyenv's 3.8.18, as tools/musicnn/convert.sh) and
# python3 with venv; makes its pinned venvs under ~/.cache/musicat.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-../shared/data}"
cache="$HOME/.cache/musicat"
here=tools/backbone_probe
source tools/musicnn/venv.sh
musicnn_venv "${MUSICNN_VENV:-$cache/venv-musicnn}"
make_venv python3 "$cache/venv-probe" tools/head_probe/requirements.txt
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
cargo run --release --features train --example dump_embeddings -- "$data" "$cache/probe-embeddings"
mkdir -p "$cache/backbone-probe"
models=(MSD_musicnn MTT_musicnn MSD_vgg MTT_vgg)
TF_CPP_MIN_LOG_LEVEL=2 "${MUSICNN_VENV:-$cache/venv-musicnn}/bin/python" "$here/extract.py" \
    "$cache/probe-embeddings" "$cache/backbone-probe" "${models[@]}" 2> >(grep -v -E 'Warning|^  ' >&2)
"$cache/venv-probe/bin/python" "$here/probe.py" "$cache/probe-embeddings" "$cache/backbone-probe" "${models[@]}" \
    > "$here/RESULTS.md"
cat "$here/RESULTS.md"
