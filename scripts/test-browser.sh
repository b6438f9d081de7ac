#!/usr/bin/env bash
# Browser tests of the app: builds it with trunk (release), serves dist/ with the fixture
# models (random weights, so the tests do not depend on which trained models are shipped) on
# 127.0.0.1, and drives Debian's headless Chromium with playwright-core (tests/browser/).
# Installs what it needs: chromium (apt), playwright-core (npm ci), trunk and wasm-bindgen-cli.
# Screenshots and the exported CSV go to tests/browser/artifacts/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "browser test tools"
if ! command -v chromium >/dev/null; then
  as_root apt-get update
  as_root apt-get install -y chromium chromium-driver
fi
# The machine's Node.js (20, with npm) runs playwright-core; Debian's own is only for a bare machine.
if ! command -v npm >/dev/null; then
  as_root apt-get install -y nodejs npm
fi
node --version
chromium --version 2>/dev/null || true
bash scripts/install-wasm-tools.sh
(cd tests/browser && npm ci --no-audit --no-fund)

step "trunk build index.html --release"
mkdir -p models   # trunk copies models/ into dist/; it holds the trained bundles once shipped
trunk build index.html --release

step "browser tests (headless Chromium)"
served=$(mktemp -d)
trap 'rm -rf "$served"' EXIT
cp -r dist/. "$served/"
rm -rf "$served/models"
mkdir "$served/models"
cp tests/models/fixture/genre.onnx tests/models/fixture/genre.json \
   tests/models/fixture/mood.onnx tests/models/fixture/mood.json "$served/models/"
printf '{"bundles": ["genre", "mood"]}\n' > "$served/models/index.json"
DIST="$served" node tests/browser/app.test.mjs

step "large, cancelled and oversized batches in the browser"
DIST="$served" node tests/browser/batch.test.mjs

step "tempo, key, loudness, energy and danceability in the browser"
DIST="$served" node tests/browser/descriptors.test.mjs

step "a worker dying mid-file, a folder dragged in"
DIST="$served" node tests/browser/resilience.test.mjs

if [ -f dist/models/index.json ]; then
  step "the shipped models in the browser"
  DIST=dist node tests/browser/shipped.test.mjs
fi
