# Shared by bench/compare.sh and bench/python/parity.sh (sourced, not run).
# Everything they install or build lives outside the repository, under $MUSICAT_CACHE.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MUSICAT_CACHE="${MUSICAT_CACHE:-$HOME/.cache/musicat}"
VENV="${BENCH_VENV:-$MUSICAT_CACHE/venv-bench}"
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$MUSICAT_CACHE/target-bench}"
MODELS="${BENCH_MODELS:-$ROOT/models}"
CLASSIFY="$CARGO_TARGET_DIR/release/classify"
PY="$VENV/bin/python"
REFERENCE="$ROOT/bench/python/reference.py"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages, installed when a command is missing (needs root, as on the project's machines).
need_apt() { # need_apt COMMAND PACKAGE...
    local cmd="$1"; shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    say "installing $* (apt-get)"
    if [ "$(id -u)" -ne 0 ]; then echo "missing $cmd: apt-get install $* (as root)" >&2; exit 2; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

# The venv of bench/python/requirements.txt, (re)installed when the requirements change.
ensure_venv() {
    local req="$ROOT/bench/python/requirements.txt" stamp="$VENV/.requirements.sha256"
    local sum; sum="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then return 0; fi
    command -v python3 >/dev/null || need_apt python3 python3 python3-venv
    say "creating the Python venv $VENV"
    python3 -m venv "$VENV" || { need_apt true python3-venv; python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$sum" > "$stamp"
}

# Release build of the CLI (cargo does nothing when it is up to date).
build_classify() {
    say "cargo build --release --bin classify (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo build --release --bin classify -q)
}

# Tasks the reference can run (bundles whose sidecar it understands), comma separated;
# Musicat is run on the same tasks so both do the same work.
reference_tasks() {
    "$PY" "$REFERENCE" --models "$MODELS" --list-tasks
}

# The benchmarks' synthesised tracks, made once and cached outside the repository.
AUDIO="$MUSICAT_CACHE/bench-audio"
# Stereo "music" (the signal of benches/pipeline.rs): a chord every 2 s, a kick every 0.5 s, a little noise.
F1='if(eq(CHORD,0),261.6,if(eq(CHORD,1),220.0,if(eq(CHORD,2),174.6,196.0)))'
F2='if(eq(CHORD,0),329.6,if(eq(CHORD,1),261.6,if(eq(CHORD,2),220.0,246.9)))'
F3='if(eq(CHORD,0),392.0,if(eq(CHORD,1),329.6,if(eq(CHORD,2),261.6,293.7)))'
TONE="0.15*(sin(2*PI*$F1*t)+sin(2*PI*$F2*t)+sin(2*PI*$F3*t))"
KICK='0.4*sin(2*PI*60*mod(t,0.5))*exp(-30*mod(t,0.5))'
TONE="${TONE//CHORD/mod(floor(t/2),4)}"
LEFT="$TONE+$KICK+0.02*(random(0)-0.5)"
RIGHT="0.8*$TONE+$KICK+0.02*(random(1)-0.5)"
track() { # track SECONDS -> path of the MP3 (44.1 kHz stereo, 192 kb/s), made once
    local s="$1" mp3="$AUDIO/synth_${1}s.mp3"
    mkdir -p "$AUDIO"
    if [ ! -s "$mp3" ]; then
        say "synthesising $mp3"
        ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='$LEFT|$RIGHT':s=44100:d=$s" \
            -c:a libmp3lame -b:a 192k -bitexact "$mp3.tmp.mp3"
        mv "$mp3.tmp.mp3" "$mp3"
    fi
    echo "$mp3"
}
