"""Per-patch embeddings of every file the trainer uses, from each checkpoint in the musicnn wheel.

For every file named in DUMP_DIR/<task>.csv (written by examples/dump_embeddings.rs, with the
trainer's splits), computes musicnn's own front end (librosa, 16 kHz, n_fft 512, hop 256, 96 mel
bands, log10(10000 x + 1), as musicnn.extractor) in non-overlapping 187-frame patches, runs each
named checkpoint (restored explicitly: a failed restore raises) and stores per patch:
- musicnn models: mean_pool + max_pool (1506 values, what the shipped heads read);
- vgg models: pool5 flattened (256) + mean and max over time and frequency of pool4 and pool3 (512).

Usage: python extract.py DUMP_DIR OUT_DIR MODEL... (MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg)
Writes OUT_DIR/<MODEL>.npz: `paths` and one array `f<i>` [patches, width] per path.
"""
import csv
import os
import sys

import librosa
import numpy as np
import musicnn
import tensorflow as tf
from musicnn import configuration as config
from musicnn import models

N_FRAMES = 187
TASKS = ["genre", "mood", "style", "sounds"]


def patches(path):
    """musicnn.extractor's input: [patches, 187, 96]; a clip shorter than one patch is zero-padded."""
    y, sr = librosa.load(path, sr=16000)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=256, n_fft=512, n_mels=96).T
    mel = np.log10(10000 * mel.astype(np.float16) + 1).astype(np.float32)
    if len(mel) < N_FRAMES:
        mel = np.pad(mel, ((0, N_FRAMES - len(mel)), (0, 0)))
    return np.stack([mel[k * N_FRAMES:(k + 1) * N_FRAMES] for k in range(len(mel) // N_FRAMES)])


def pooled(t):
    """[n, time, freq, channels] -> [n, 2 * channels]: mean and max over time and frequency."""
    return np.concatenate([t.mean(axis=(1, 2)), t.max(axis=(1, 2))], axis=1)


def main(dump, out, names):
    tf.compat.v1.disable_eager_execution()
    paths = sorted({row["path"] for t in TASKS for row in csv.DictReader(open(f"{dump}/{t}.csv"))})
    print(f"{len(paths)} files", flush=True)
    inputs = {p: patches(p) for p in paths}
    for name in names:
        tf.compat.v1.reset_default_graph()
        labels = config.MTT_LABELS if "MTT" in name else config.MSD_LABELS
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, 96])
            is_training = tf.compat.v1.placeholder(tf.bool)
            outputs = models.define_model(x, is_training, name, len(labels))
        session = tf.compat.v1.Session()
        tf.compat.v1.train.Saver().restore(session, os.path.join(os.path.dirname(musicnn.__file__), name) + "/")
        features = {}
        for p in paths:
            r = session.run(outputs, feed_dict={x: inputs[p], is_training: False})
            if "vgg" in name:
                _, _, _, pool3, pool4, pool5 = r
                features[p] = np.concatenate([pool5.reshape(len(pool5), -1), pooled(pool4), pooled(pool3)], axis=1)
            else:
                mean_pool, max_pool = r[6], r[7]
                features[p] = np.concatenate([mean_pool, max_pool], axis=1)
        np.savez(f"{out}/{name}.npz", paths=np.array(paths), **{f"f{i}": features[p] for i, p in enumerate(paths)})
        print(f"{name}: {features[paths[0]].shape[1]} values per patch", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
