#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, native tests, and the wasm32 build of the library.
# Installs what it needs (the wasm32 target, rustfmt, clippy) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build outside the clone so repeated runs on one machine reuse the cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/musicat/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown
cargo --version

step "cargo fmt --check"
cargo fmt --check

# With the trainer on, clippy sees every target the default build has, plus the trainer.
step "cargo clippy --all-targets --features train -- -D warnings"
cargo clippy --all-targets --features train -- -D warnings

step "cargo test --features train (native, including the trainer's end-to-end test)"
cargo test --features train

# Licence, ban and source policy (deny.toml); needs no network once the crates are fetched.
step "cargo deny check licenses bans sources"
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked
cargo fetch --locked # every platform's crates (the wasm ones too), so the offline check sees them all
cargo deny --offline check licenses bans sources

# The app's release profile, so trunk's build of the worker below reuses these artifacts.
step "cargo build --lib --target wasm32-unknown-unknown --profile wasm-release"
cargo build --lib --target wasm32-unknown-unknown --profile wasm-release
bash scripts/test-browser.sh

step "all checks passed"
