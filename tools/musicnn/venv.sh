# Shell functions shared by convert.sh and the probes under tools/ (head_probe, backbone_probe, finetune_probe)
# (source this file).

pick_python() { # first existing candidate
    for c in "$@"; do
        if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    done
    return 1
}

# make_venv PYTHON VENV REQUIREMENTS... : (re)creates VENV unless its stamp matches the inputs.
make_venv() {
    local py="$1" dir="$2"; shift 2
    local stamp
    stamp="$("$py" -c 'import sys; print(sys.version.splitlines()[0])') $(cat "$@" | sha256sum | cut -d' ' -f1)"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.musicat-stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    if [ -e "$dir" ]; then
        if [ ! -f "$dir/pyvenv.cfg" ]; then
            echo "error: $dir exists and is not a venv; remove it or set another path" >&2
            exit 1
        fi
        rm -rf "$dir"
    fi
    echo "== creating $dir with $py"
    mkdir -p "$(dirname "$dir")"
    "$py" -m venv "$dir"
    local req
    for req in "$@"; do
        case "$req" in
            *-musicnn.txt) "$dir/bin/python" -m pip install --quiet --no-deps -r "$req" ;;
            *) "$dir/bin/python" -m pip install --quiet -r "$req" ;;
        esac
    done
    echo "$stamp" > "$dir/.musicat-stamp"
}

# musicnn_venv VENV : (re)creates VENV, the pinned TensorFlow venv of convert.py, with Python 3.8 (MUSICNN_PYTHON,
# else pyenv's 3.8.18, else python3.8); exits when there is none.
musicnn_venv() {
    local here py38
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    py38="$(pick_python "${MUSICNN_PYTHON:-}" "$HOME/.pyenv/versions/3.8.18/bin/python" python3.8)" || {
        echo "error: Python 3.8 not found (pyenv install 3.8.18, or set MUSICNN_PYTHON)" >&2
        exit 1
    }
    make_venv "$py38" "$1" "$here/requirements.txt" "$here/requirements-musicnn.txt"
}
