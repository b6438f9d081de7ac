#!/usr/bin/env bash
# Converts the pretrained musicnn MSD model to models/backbone/musicnn_msd.onnx and rewrites the
# parity references in tests/reference/musicnn/. See README.md beside this file.
#
# Makes (once) a pinned venv outside the repo, then runs convert.py; with a Python >= 3.9 it also
# checks the ONNX under tract (check_tract.py, second venv). The outputs are the same from run to
# run; the file's bytes usually too, but tf2onnx now and then names tensors differently (README.md).
#
# Environment (all optional):
#   MUSICNN_PYTHON   Python 3.8 to build the venv with (default: pyenv's 3.8.18, else python3.8)
#   MUSICNN_VENV     venv path (default: ~/.cache/musicat/venv-musicnn)
#   MUSICNN_GTZAN    GTZAN folder for the rock sanity check (default: <repo>/../shared/data/gtzan)
#   TRACT_PYTHON     Python >= 3.9 for the tract check (default: pyenv's 3.11.7, else python3); "none" skips
#   TRACT_VENV       its venv (default: ~/.cache/musicat/venv-musicnn-tract)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HOME}/.cache/musicat"
venv="${MUSICNN_VENV:-$cache/venv-musicnn}"
parity_npz="$cache/musicnn-parity.npz"

source "$here/venv.sh"

musicnn_venv "$venv"

echo "== convert.py"
PYTHONHASHSEED=0 MUSICNN_PARITY_NPZ="$parity_npz" "$venv/bin/python" "$here/convert.py" "$@" 2> >(
    # TF/Keras deprecation chatter on stderr: keep real errors
    grep -v -E 'UserWarning: `tf\.layers|^  [a-z_0-9]+ = tf\.|^  (conv|pool|bn_|flat|dense|logits|s[0-9])|oneDNN custom operations|cpu_feature_guard|AVX2 AVX512|rebuild TensorFlow with' >&2
)

echo "== prune_dead.py"
"$venv/bin/python" "$here/prune_dead.py" "$here/../../models/backbone/musicnn_msd.onnx" "$parity_npz" \
    "$here/../../models/backbone/musicnn_msd.conversion.json"

# Same outputs, less work per patch: the dead channels' constants past their batch-norm chains, the
# two timbral convolutions through a DFT along frequency, the max and mean over time as pooling, the
# 128-tap temporal convolution as a Toeplitz product (each step checks itself against the graph
# before it with onnxruntime and writes nothing on a mismatch).
for step in fold_dead_chains fast_front_end pool_over_time temporal_toeplitz live_inputs_only; do
    echo "== $step.py"
    "$venv/bin/python" "$here/$step.py" "$here/../../models/backbone/musicnn_msd.onnx" "$parity_npz" \
        "$here/../../models/backbone/musicnn_msd.conversion.json"
done

echo "== make_tags_head.py"
"$venv/bin/python" "$here/make_tags_head.py" "$here/../.."

if [ "${TRACT_PYTHON:-}" = "none" ]; then
    exit 0
fi
if pyt="$(pick_python "${TRACT_PYTHON:-}" "$HOME/.pyenv/versions/3.11.7/bin/python" python3)" &&
    "$pyt" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'; then
    make_venv "$pyt" "${TRACT_VENV:-$cache/venv-musicnn-tract}" "$here/requirements-tract.txt"
    echo "== check_tract.py"
    "${TRACT_VENV:-$cache/venv-musicnn-tract}/bin/python" "$here/check_tract.py" "$parity_npz"
else
    echo "(no Python >= 3.9: tract check skipped)"
fi
