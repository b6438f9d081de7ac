#!/usr/bin/env python3
"""Generate librosa reference arrays for Musicat's mel-spectrogram parity tests.

Run from the repository root, with the pinned environment of requirements.txt:

    python3.11 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install -r tests/reference/requirements.txt
    /work/venv-ref/bin/python tests/reference/make_mel_reference.py

Input:  tests/fixtures/mel_input.wav (3.0 s, mono, 22050 Hz, 16-bit PCM), read with
        soundfile as float32, i.e. exactly int16 / 32768 (what a Rust decoder gives).
Output (tests/reference/): raw little-endian float32 arrays in C (row-major) order,
        and reference.json describing their shapes and the parameters used.
"""

import json
import sys
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
INPUT = REPO / "tests" / "fixtures" / "mel_input.wav"
OUT = REPO / "tests" / "reference"

SR = 22050
# librosa.feature.melspectrogram defaults (librosa 0.10), written out for the record.
MEL_PARAMS = {
    "sr": SR,
    "n_fft": 2048,
    "hop_length": 512,
    "win_length": 2048,
    "window": "hann",  # periodic Hann (scipy.signal.get_window('hann', 2048, fftbins=True))
    "center": True,
    "pad_mode": "constant",  # zero padding of n_fft // 2 on both sides
    "power": 2.0,
    "n_mels": 128,
    "fmin": 0.0,
    "fmax": SR / 2,
    "htk": False,  # Slaney mel scale
    "norm": "slaney",  # area-normalised triangles
    "dtype": "float32",
}


def write_f32(name, arr, entries, description, params):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    (OUT / name).write_bytes(arr.tobytes(order="C"))
    entries[name] = {
        "shape": list(arr.shape),
        "dtype": "float32",
        "byte_order": "little",
        "order": "C (row-major)",
        "axes": description["axes"],
        "description": description["text"],
        "params": params,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "sum_f64": float(arr.astype(np.float64).sum()),
    }


def main():
    y, sr = sf.read(INPUT, dtype="float32", always_2d=False)
    if sr != SR or y.ndim != 1:
        sys.exit(f"{INPUT}: expected mono {SR} Hz, got {sr} Hz, shape {y.shape}")
    info = sf.info(INPUT)

    # All defaults: n_fft 2048, hop 512, hann, center=True, pad_mode='constant',
    # power 2, n_mels 128, htk=False, norm='slaney'.
    S = librosa.feature.melspectrogram(y=y, sr=SR)
    db_max = librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80.0)
    db_one = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None)
    fb = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128)
    fb10k = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, fmax=10000.0)

    # Sanity: the explicit-parameter call gives the same thing as the defaults.
    S_explicit = librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=2048, hop_length=512, win_length=None, window="hann",
        center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
        htk=False, norm="slaney",
    )
    assert np.array_equal(S, S_explicit)
    assert S.shape == (128, 1 + len(y) // 512), S.shape

    entries = {}
    axes = ["n_mels", "n_frames"]
    write_f32("mel_power.f32", S, entries,
              {"axes": axes, "text": "librosa.feature.melspectrogram(y=y, sr=22050) (power mel, all defaults)"},
              MEL_PARAMS)
    write_f32("mel_db_ref_max.f32", db_max, entries,
              {"axes": axes, "text": "librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80.0)"},
              {**MEL_PARAMS, "ref": "max", "amin": 1e-10, "top_db": 80.0})
    write_f32("mel_db_ref_one.f32", db_one, entries,
              {"axes": axes, "text": "librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None)"},
              {**MEL_PARAMS, "ref": 1.0, "amin": 1e-10, "top_db": None})
    write_f32("mel_filters.f32", fb, entries,
              {"axes": ["n_mels", "n_fft/2+1"], "text": "librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128)"},
              {"sr": SR, "n_fft": 2048, "n_mels": 128, "fmin": 0.0, "fmax": SR / 2, "htk": False, "norm": "slaney"})
    write_f32("mel_filters_fmax10k.f32", fb10k, entries,
              {"axes": ["n_mels", "n_fft/2+1"],
               "text": "librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128, fmax=10000)"},
              {"sr": SR, "n_fft": 2048, "n_mels": 128, "fmin": 0.0, "fmax": 10000.0, "htk": False, "norm": "slaney"})

    meta = {
        "generator": "tests/reference/make_mel_reference.py",
        "input": {
            "file": "tests/fixtures/mel_input.wav",
            "samples": int(len(y)),
            "sample_rate": int(sr),
            "channels": int(info.channels),
            "subtype": info.subtype,
            "read_as": "soundfile.read(dtype='float32'): int16 / 32768",
            "sum_f64": float(y.astype(np.float64).sum()),
            "peak": float(np.abs(y).max()),
        },
        "versions": {
            "python": sys.version.split()[0],
            "librosa": librosa.__version__,
            "numpy": np.__version__,
            "scipy": __import__("scipy").__version__,
            "soundfile": sf.__version__,
            "libsndfile": sf.__libsndfile_version__,
        },
        "notes": [
            "Arrays are raw little-endian float32, C order; shape [rows, cols] as listed.",
            "power_to_db computes 10*log10(max(amin, S)) - 10*log10(max(amin, ref)), "
            "then (top_db only) clips below max - top_db.",
            "mel_input.wav starts with 0.25 s of digital silence, so the first frames of "
            "mel_power are exactly 0, mel_db_ref_one reaches -100 dB (amin) there and "
            "mel_db_ref_max is clipped at -80 dB.",
        ],
        "files": entries,
    }
    (OUT / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    for name, e in entries.items():
        print(f"{name:28s} shape={e['shape']} min={e['min']:.6g} max={e['max']:.6g}")


if __name__ == "__main__":
    main()
