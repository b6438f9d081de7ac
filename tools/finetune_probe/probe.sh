#!/usr/bin/env bash
# Compares the shipped heads' frozen musicnn backbone with its mid-end fine-tuned per task (see finetune.py) and
# writes tools/finetune_probe/RESULTS.md. Needs the research data (default ../shared/data) and Python 3.8 for
# TensorFlow (pyenv's 3.8.18, as tools/musicnn/convert.sh), whose pinned venv it shares; about an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-../shared/data}"
cache="$HOME/.cache/musicat"
here=tools/finetune_probe
source tools/musicnn/venv.sh
venv="${MUSICNN_VENV:-$cache/venv-musicnn}"
musicnn_venv "$venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
# The trainer's files, labels, groups and held-out split per task.
cargo run --release --features train --example dump_embeddings -- "$data" "$cache/probe-embeddings"
{
    echo "# Fine-tuning musicnn's mid-end"
    echo
    echo "Written by \`tools/finetune_probe/probe.sh\` on $(date -u +%Y-%m-%d) (see finetune.py's docstring for the method)."
    echo "Track accuracy / macro-F1."
    echo
    echo "| task | head | grouped 5-fold CV over all tracks | held-out split |"
    echo "|---|---|---:|---:|"
    TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" "$here/finetune.py" "$cache/probe-embeddings" genre mood style sounds \
        2> >(grep -v -E 'cpu_feature_guard|AVX2 FMA|rebuild TensorFlow' >&2)
} > "$here/RESULTS.md"
cat "$here/RESULTS.md"
