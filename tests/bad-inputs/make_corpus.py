#!/usr/bin/env python3
"""Write Musicat's hostile-input corpus and what each file must give (standard library only).

Usage: python3 make_corpus.py OUT_DIR

Builds 50+ files in OUT_DIR from the good fixtures in ../fixtures/audio (truncated, corrupted,
renamed, forged) plus synthesized ones, and OUT_DIR/expected.json: for every file the outcomes
Musicat may give: "ok" (a valid result) or the name of an error (AudioError variant, or
"Silent"). Deterministic (fixed seeds, no timestamps). Licence: CC0 1.0 (our own work).

The corpus is rebuilt at test time (tests/bad_inputs.rs), so nothing generated is committed.
"""

import json
import math
import random
import struct
import sys
import zipfile
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOOD = HERE.parent / "fixtures" / "audio"

PCM, IEEE_FLOAT = 0x0001, 0x0003
CUT = ["Truncated", "Corrupt"]


def fmt_chunk(tag, channels, rate, bits, byte_rate=None, block_align=None, size=None):
    block_align = channels * bits // 8 if block_align is None else block_align
    byte_rate = rate * block_align if byte_rate is None else byte_rate
    body = struct.pack("<HHIIHH", tag, channels, rate & 0xFFFFFFFF, byte_rate & 0xFFFFFFFF,
                       block_align & 0xFFFF, bits)
    return b"fmt " + struct.pack("<I", len(body) if size is None else size) + body


def chunk(cid, body, size=None):
    pad = b"\x00" if len(body) % 2 else b""
    return cid + struct.pack("<I", len(body) if size is None else size) + body + pad


def riff(chunks, riff_size=None):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def s16(values):
    return b"".join(struct.pack("<h", max(-32768, min(32767, int(round(v * 32767))))) for v in values)


def tone(n, rate=22050, freq=440.0, amp=0.5):
    return [amp * math.sin(2 * math.pi * freq * i / rate) for i in range(n)]


def wav16(values, rate=22050, channels=1):
    return riff([fmt_chunk(PCM, channels, rate, 16), chunk(b"data", s16(values))])


def random_bytes(seed, n):
    return random.Random(seed).getrandbits(n * 8).to_bytes(n, "little")


def zip_archive():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("song.txt", date_time=(2026, 1, 1, 0, 0, 0))
        z.writestr(info, "not a song\n" * 50)
    return buf.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
HTML = b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>\n"


def id3_tag(payload_size=None):
    """An ID3v2.3 tag holding one TIT2 frame; `payload_size` forges the tag's size field."""
    frame_body = b"\x00Just a title"
    frame = b"TIT2" + struct.pack(">I", len(frame_body)) + b"\x00\x00" + frame_body
    size = len(frame) if payload_size is None else payload_size
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + synchsafe + frame


def corrupt(data, start_fraction, length, seed):
    """`data` with `length` bytes from `start_fraction` of its length replaced by random bytes."""
    at = int(len(data) * start_fraction)
    return data[:at] + random_bytes(seed, length) + data[at + length:]


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    expected = {}

    def add(name, data, outcomes, why):
        (out / name).write_bytes(data)
        expected[name] = {"outcomes": outcomes if isinstance(outcomes, list) else [outcomes], "why": why}

    mp3 = (GOOD / "music_stereo_44100.mp3").read_bytes()
    flac = (GOOD / "music_12s_22050_mono.flac").read_bytes()
    ogg = (GOOD / "music_stereo_44100.ogg").read_bytes()
    m4a = (GOOD / "music_stereo_44100.m4a").read_bytes()
    wav = (GOOD / "tone_s16_22050_stereo.wav").read_bytes()

    # --- empty and tiny ---------------------------------------------------------------
    add("empty.mp3", b"", "Empty", "0 bytes")
    add("one_byte.wav", b"R", "TooSmall", "1 byte")
    add("two_bytes.flac", b"fL", "TooSmall", "2 bytes")
    add("clip_5ms.wav", wav16(tone(110)), "TooShort", "5 ms of tone, below the 0.1 s minimum")

    # --- truncated at several points -------------------------------------------------
    for pct in (1, 10, 50, 90):
        add(f"truncated_{pct}pct.mp3", mp3[: len(mp3) * pct // 100], CUT + ["TooShort"],
            f"an MP3 cut at {pct}% of its bytes")
    add("truncated_header.mp3", mp3[:200], CUT + ["TooShort", "NoAudioTrack"], "the first 200 bytes of an MP3")
    for pct in (5, 50, 95):
        add(f"truncated_{pct}pct.flac", flac[: len(flac) * pct // 100], CUT + ["TooShort"],
            f"a FLAC cut at {pct}% of its bytes")
    add("truncated_streaminfo.flac", flac[:42], CUT + ["TooShort", "NoAudioTrack", "BadHeader"],
        "only the FLAC signature and STREAMINFO block")
    for pct in (10, 60):
        add(f"truncated_{pct}pct.ogg", ogg[: len(ogg) * pct // 100], CUT + ["TooShort"],
            f"an Ogg Vorbis file cut at {pct}% of its bytes")
    add("truncated_first_page.ogg", ogg[:58], CUT + ["TooShort", "NoAudioTrack", "UnknownFormat"],
        "only the first Ogg page")
    for pct in (10, 60):
        add(f"truncated_{pct}pct.m4a", m4a[: len(m4a) * pct // 100],
            CUT + ["TooShort", "NoAudioTrack", "UnknownFormat"], f"an M4A cut at {pct}% of its bytes")
    add("truncated_ftyp.m4a", m4a[:32], CUT + ["TooShort", "NoAudioTrack", "UnknownFormat"],
        "only the M4A ftyp box")
    add("truncated_header_only.wav", wav[:44], ["TooShort", "Truncated"], "a WAV header with no samples")
    add("truncated_mid_sample.wav", wav[: len(wav) // 2 + 1], CUT, "a stereo WAV cut in the middle of a sample")

    # --- forged WAV headers ----------------------------------------------------------
    data = s16(tone(22050))
    add("rate_0hz.wav", riff([fmt_chunk(PCM, 1, 0, 16), chunk(b"data", data)]), "BadHeader", "0 Hz")
    add("rate_4ghz.wav", riff([fmt_chunk(PCM, 1, 4_000_000_000, 16), chunk(b"data", data)]), "BadHeader",
        "4 GHz sample rate")
    add("channels_0.wav", riff([fmt_chunk(PCM, 0, 22050, 16), chunk(b"data", data)]), "BadHeader", "0 channels")
    add("channels_65535.wav", riff([fmt_chunk(PCM, 65535, 22050, 16), chunk(b"data", data)]),
        ["BadHeader", "UnsupportedCodec"], "65,535 channels")
    add("bits_0.wav", riff([fmt_chunk(PCM, 1, 22050, 0, byte_rate=44100, block_align=2), chunk(b"data", data)]),
        ["BadHeader", "UnsupportedCodec"], "0 bits per sample")
    add("block_align_0.wav", riff([fmt_chunk(PCM, 1, 22050, 16, block_align=0), chunk(b"data", data)]),
        ["BadHeader", "ok"], "block align 0 (derivable from the other fields)")
    add("data_claims_4gb.wav", riff([fmt_chunk(PCM, 1, 22050, 16), chunk(b"data", data, size=0xFFFFFFF0)],
                                     riff_size=0xFFFFFFFF), "Truncated", "a data chunk claiming 4 GB")
    add("riff_size_negative.wav", riff([fmt_chunk(PCM, 1, 22050, 16), chunk(b"data", data)],
                                       riff_size=0x80000000), ["ok", "Truncated"],
        "RIFF size 2^31 (negative as a signed int); the data chunk itself is right")
    add("fmt_size_overflow.wav", riff([fmt_chunk(PCM, 1, 22050, 16, size=0xFFFFFFFF), chunk(b"data", data)]),
        ["BadHeader", "Corrupt", "Truncated", "NoAudioTrack"], "a fmt chunk claiming 4 GB")
    add("no_data_chunk.wav", riff([fmt_chunk(PCM, 1, 22050, 16)]), ["BadHeader", "NoAudioTrack", "TooShort", "Corrupt"],
        "a fmt chunk and nothing else")
    add("codec_unknown.wav", riff([fmt_chunk(0x1234, 1, 22050, 16), chunk(b"data", data)]),
        ["UnsupportedCodec", "BadHeader"], "format tag 0x1234")
    add("extra_chunks.wav", riff([chunk(b"LIST", b"INFOISFT\x06\x00\x00\x00tests\x00"), fmt_chunk(PCM, 1, 22050, 16),
                                 chunk(b"junk", b"\x00" * 7), chunk(b"data", data)]), "ok",
        "valid: unknown chunks (one odd-sized, padded) around the fmt chunk")

    # --- float WAV with NaN and infinity ---------------------------------------------
    def float_wav(values):
        return riff([fmt_chunk(IEEE_FLOAT, 1, 22050, 32), chunk(b"data", b"".join(struct.pack("<f", v) for v in values))])

    vals = tone(22050)
    vals[5000] = math.nan
    add("nan.wav", float_wav(vals), "NonFiniteSamples", "one NaN sample in a float WAV")
    add("all_inf.wav", float_wav([math.inf] * 22050), "NonFiniteSamples", "a float WAV full of +inf")
    add("all_nan.wav", float_wav([math.nan] * 22050), "NonFiniteSamples", "a float WAV full of NaN")

    # --- valid but odd signals -------------------------------------------------------
    silence = riff([fmt_chunk(PCM, 1, 8000, 16), chunk(b"data", b"\x00" * (2 * 8000 * 600))])
    add("silence_10min.wav", silence, "Silent", "10 minutes of digital silence")
    add("dc_offset.wav", wav16([0.25] * 22050 * 6), "ok", "valid: 6 s of a constant DC offset")
    add("full_scale_noise.wav", wav16([random.Random(7).uniform(-1, 1) for _ in range(22050 * 6)]), "ok",
        "valid: 6 s of full-scale white noise")

    # --- MP3 oddities ----------------------------------------------------------------
    add("id3_only.mp3", id3_tag(), ["NoAudioTrack", "UnknownFormat", "Corrupt", "TooShort", "Truncated"],
        "an ID3 tag and no audio frames")
    add("id3_size_past_end.mp3", id3_tag(payload_size=0x0FFFFFFF) + mp3[:4000],
        ["NoAudioTrack", "UnknownFormat", "Corrupt", "TooShort", "Truncated"],
        "an ID3 tag claiming 256 MB, then a little MP3")
    add("garbage_middle.mp3", corrupt(mp3, 0.4, 2000, 11), ["ok", "Corrupt", "Truncated"],
        "an MP3 with 2 kB of random bytes in the middle (the frames lost make it shorter than announced)")
    add("garbage_middle.flac", corrupt(flac, 0.5, 500, 12), ["ok", "Corrupt"],
        "a FLAC with 500 random bytes in the middle")
    add("garbage_middle.ogg", corrupt(ogg, 0.5, 500, 13), ["ok", "Corrupt", "Truncated"],
        "an Ogg Vorbis file with 500 random bytes in the middle")
    add("garbage_middle.m4a", corrupt(m4a, 0.5, 500, 14), ["ok", "Corrupt", "Truncated"],
        "an M4A with 500 random bytes in its audio")

    # --- random bytes and foreign files with audio names ------------------------------
    for i, ext in enumerate(("mp3", "wav", "flac", "ogg", "m4a")):
        add(f"random.{ext}", random_bytes(100 + i, 8192), ["UnknownFormat", "Corrupt"], f"8 kB of random bytes named .{ext}")
    add("riff_then_random.wav", b"RIFF" + random_bytes(200, 4000), ["BadHeader", "UnknownFormat", "Corrupt"],
        "a RIFF signature followed by random bytes")
    add("flac_then_random.flac", b"fLaC" + random_bytes(201, 4000), ["BadHeader", "UnknownFormat", "Corrupt"],
        "a FLAC signature followed by random bytes")
    add("image.mp3", PNG, "NotAudio", "a PNG image named .mp3")
    add("document.mp3", PDF, "NotAudio", "a PDF document named .mp3")
    add("archive.mp3", zip_archive(), "NotAudio", "a ZIP archive named .mp3")
    add("page.mp3", HTML, "NotAudio", "an HTML page named .mp3")
    add("notes.wav", b"These are my notes, not a recording.\n" * 4, "NotAudio", "a text file named .wav")

    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} files to {out}")


if __name__ == "__main__":
    main()
