#!/usr/bin/env bash
# Installs the wasm toolchain the browser app needs, once per machine: the wasm32 target,
# trunk 0.21.14 and the wasm-bindgen-cli that matches Cargo.lock. Sourced or run from the repo root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

rustup target add wasm32-unknown-unknown

# trunk 0.22 needs a newer rustc than 1.95; 0.21.14 builds with it. Installed into ~/.cargo/bin,
# outside any CARGO_TARGET_DIR a caller may have set, so it is built once per machine.
if ! trunk --version 2>/dev/null | grep -q '0\.21\.14'; then
  env -u CARGO_TARGET_DIR cargo install --locked trunk --version 0.21.14
fi

# wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock (and `--locked` fails for it).
wasm_bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wasm_bindgen"; then
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$wasm_bindgen"
fi
