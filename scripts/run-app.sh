#!/usr/bin/env bash
# Installs what the browser app needs (wasm32 target, trunk, wasm-bindgen-cli) from the
# registries and serves the app with the shipped models on http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

rustup target add wasm32-unknown-unknown

# trunk 0.22 needs a newer rustc than 1.95; 0.21.14 builds with it.
if ! trunk --version 2>/dev/null | grep -q '0\.21\.14'; then
  cargo install --locked trunk --version 0.21.14
fi

# wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock (and `--locked` fails for it).
wasm_bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wasm_bindgen"; then
  cargo install wasm-bindgen-cli --version "$wasm_bindgen"
fi

exec trunk serve --release "$@"
