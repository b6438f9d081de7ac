#!/usr/bin/env bash
# Benchmark of the browser app (not a test): builds dist/ if needed, serves it, and in headless
# Chromium prints the first-load time, the drop-to-verdict time of a 30-second and a 3-minute
# track (WAV and MP3), the longest main-thread task meanwhile, and the gzipped sizes of wasm, JS and models.
# Uses the shipped models in dist/models; without them (none shipped yet) the fixture models.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ ! -f dist/index.html ]; then
  bash scripts/install-wasm-tools.sh
  mkdir -p models
  trunk build index.html --release
fi
command -v ffmpeg >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg >/dev/null; }
(cd tests/browser && npm ci --no-audit --no-fund --silent)
served=dist
if [ ! -f dist/models/index.json ]; then
  echo "(no shipped models in dist/models: benchmarking with the fixture models)"
  served=$(mktemp -d)
  trap 'rm -rf "$served"' EXIT
  cp -r dist/. "$served/"
  cp tests/models/fixture/genre.* tests/models/fixture/mood.* "$served/models/"
  printf '{"bundles": ["genre", "mood"]}\n' > "$served/models/index.json"
fi
DIST="$served" node tests/browser/bench.mjs
