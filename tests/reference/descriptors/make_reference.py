"""Reference tempo and beats from librosa for the descriptor tests (tests/descriptors.rs).

Writes drum-pattern fixtures (synthesized here, CC0) to tests/fixtures/audio/ and, for them and the
music fixtures, `librosa.beat.beat_track` results to tests/reference/descriptors/librosa_beats.json.
Run with the pinned environment of bench/python (librosa 0.10.2.post1, soundfile):

    bash bench/python/venv.sh   # or any venv with bench/python/requirements.txt
    python tests/reference/descriptors/make_reference.py
"""

import json
import pathlib

import librosa
import numpy as np
import soundfile as sf

ROOT = pathlib.Path(__file__).resolve().parents[3]
AUDIO = ROOT / "tests" / "fixtures" / "audio"
RATE = 22050

# (file, BPM, pattern): 16 steps per bar; k = kick, s = snare, h = closed hi-hat.
PATTERNS = [
    ("drums_92bpm_22050_mono.flac", 92.0, ["k.h.s.h.k.kks.h.", "h.h.h.h.h.h.h.h."]),
    ("drums_128bpm_22050_mono.flac", 128.0, ["k...k...k...k...", "..h...h...h...h.", "....s.......s..."]),
    ("drums_174bpm_22050_mono.flac", 174.0, ["k.........k.....", "....s.......s...", "hhhhhhhhhhhhhhhh"]),
]


def drum(kind, n, rng):
    t = np.arange(n) / RATE
    if kind == "k":
        return 0.9 * np.sin(2 * np.pi * (50 + 80 * np.exp(-t / 0.02)) * t) * np.exp(-t / 0.12)
    if kind == "s":
        return 0.5 * rng.standard_normal(n) * np.exp(-t / 0.06) + 0.3 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)
    noise = rng.standard_normal(n)
    return 0.15 * np.diff(noise, prepend=0.0) * np.exp(-t / 0.015)


def write_pattern(name, bpm, rows, seconds=8.0):
    rng = np.random.default_rng(7)
    total = int(seconds * RATE)
    signal = np.zeros(total)
    step = 60.0 / bpm / 4
    steps = int(seconds / step)
    for i in range(steps):
        start = int(round(i * step * RATE))
        for row in rows:
            kind = row[i % 16]
            if kind == ".":
                continue
            n = min(int(0.4 * RATE), total - start)
            signal[start : start + n] += drum(kind, n, rng)
    signal /= np.abs(signal).max() / 0.8
    sf.write(AUDIO / name, signal.astype(np.float32), RATE, subtype="PCM_16")


def main():
    for name, bpm, rows in PATTERNS:
        write_pattern(name, bpm, rows)
    files = [p for p, _, _ in PATTERNS] + [
        "music_12s_22050_mono.flac",
        "music_stereo_22050.flac",
        "music_stereo_44100.mp3",
    ]
    reference = {"librosa": librosa.__version__, "files": {}}
    for name in files:
        y, sr = librosa.load(AUDIO / name, sr=RATE, mono=True)
        tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
        reference["files"][name] = {
            "tempo_bpm": round(float(np.atleast_1d(tempo)[0]), 3),
            "beats_s": [round(float(t), 4) for t in librosa.frames_to_time(beats, sr=sr)],
        }
    out = ROOT / "tests" / "reference" / "descriptors" / "librosa_beats.json"
    out.write_text(json.dumps(reference, indent=1) + "\n")
    print(json.dumps({k: v["tempo_bpm"] for k, v in reference["files"].items()}, indent=1))


if __name__ == "__main__":
    main()
