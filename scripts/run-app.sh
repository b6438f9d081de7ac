#!/usr/bin/env bash
# Installs what the browser app needs (wasm32 target, trunk, wasm-bindgen-cli) from the
# registries and serves the app with the shipped models on http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/install-wasm-tools.sh
mkdir -p models   # trunk copies models/ into dist/; it holds the trained bundles once shipped

exec trunk serve index.html --release "$@"
