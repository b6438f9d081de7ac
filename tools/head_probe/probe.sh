#!/usr/bin/env bash
# Probes classifier families on the shipped musicnn backbone's embeddings (see probe.py) and writes
# tools/head_probe/RESULTS.md. Needs the research data (default ../shared/data) and python3 with
# venv; installs its pinned requirements into its own venv under ~/.cache/musicat.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-../shared/data}"
venv="$HOME/.cache/musicat/venv-probe"
embeddings="$HOME/.cache/musicat/probe-embeddings"
source tools/musicnn/venv.sh
make_venv python3 "$venv" tools/head_probe/requirements.txt
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/musicat/target}"
cargo run --release --features train --example dump_embeddings -- "$data" "$embeddings"
"$venv/bin/python" tools/head_probe/probe.py "$embeddings" > tools/head_probe/RESULTS.md
cat tools/head_probe/RESULTS.md
