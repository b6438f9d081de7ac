"""Does fine-tuning musicnn's mid-end beat the frozen backbone that the shipped heads read?

For every file of a task (paths, labels, groups and the held-out split from examples/dump_embeddings.rs),
musicnn's own front end (librosa, as tools/backbone_probe/extract.py) cut in non-overlapping 187-frame patches
runs through the shipped backbone (models/backbone/musicnn_msd.onnx, onnxruntime) once; per patch it keeps the
live front-end channels the mid-end reads (`Conv_45_live_and_ones`) and the backbone's embedding. Two heads
are then compared on the same folds:
- frozen: the shipped heads' network (mean + max pool of the backbone's 753 channels -> batch norm -> dropout 0.5
  -> linear; AdamW lr 1e-3, weight decay 0.01, batch 64, 60 epochs), the mid-end fixed;
- fine-tuned: that head trained first as above, then it and musicnn's three mid-end convolutions (from their
  pretrained weights; the batch norms after them fixed as in inference) trained together for EPOCHS_FT more epochs
  (default 10) at a tenth of the rate (1e-4).
Track verdict = mean of the patch probabilities, as in the app. Scored two ways: grouped 5-fold cross-validation
over all the task's tracks (each track held out once, groups as the split's), and the held-out split.

Usage: [EPOCHS=60] [EPOCHS_FT=10] python finetune.py DUMP_DIR TASK...   (probe.sh runs it in its venv)
"""
import csv
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
from onnx import numpy_helper
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/backbone_probe")
from extract import patches  # noqa: E402  (musicnn's own preprocessing)

BACKBONE = "models/backbone/musicnn_msd.onnx"
EPOCHS = int(os.environ.get("EPOCHS", 60))
EPOCHS_FT = int(os.environ.get("EPOCHS_FT", 10))
BATCH = 64


def read_tracks(dump, task):
    """path -> (label, group, validation), from the trainer's own split."""
    tracks = {}
    for row in csv.DictReader(open(f"{dump}/{task}.csv")):
        tracks.setdefault(row["path"], (row["label"], row["group"], row["validation"].lower() == "true"))
    return tracks


def backbone_session():
    """onnxruntime on the shipped backbone, with the mid-end's input as an extra output; and the mid-end's
    weights (live channels, as the graph holds them)."""
    model = onnx.load(BACKBONE)
    model.graph.output.append(onnx.helper.make_tensor_value_info("Conv_45_live_and_ones", onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), options), {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def extract(session, paths):
    """Per path: live mid-end input [patches, 187, 65] and the backbone's embedding [patches, 1506] (mean_pool,
    max_pool: 561 front-end channels, then the mid-end's 192, for each)."""
    out = {}
    for k, path in enumerate(paths):
        x = patches(path)
        live, mean_pool, max_pool = session.run(["Conv_45_live_and_ones", "mean_pool", "max_pool"], {"mel": x})
        out[path] = (live.transpose(0, 2, 1), np.concatenate([mean_pool, max_pool], 1))
        if k % 200 == 0:
            print(f"  {k}/{len(paths)}", file=sys.stderr, flush=True)
    return out


class MidEnd(tf.keras.layers.Layer):
    """musicnn's mid-end on the live front-end channels (plus a channel of ones carrying the dead channels'
    constants), as the shipped graph computes it: conv -> ReLU -> batch norm (fixed), twice more with residuals;
    returns mean and max over time of its three outputs (64 channels each)."""

    def __init__(self, w):
        super().__init__()
        as_f32 = lambda name: w[name].astype(np.float32)  # noqa: E731  (the float16 weights)
        # Conv_45: 20 live outputs from 64 live inputs + ones. ONNX kernel [out, 1, taps, in] -> [taps, in, out].
        k45 = np.concatenate([as_f32("Conv_45_w_live_only_fp16"), w["Conv_45_w_live_only_dead"]], 3)[:, 0].transpose(1, 2, 0)
        self.k45 = tf.Variable(k45, name="k45")
        self.b45 = tf.Variable(w["w28_live"], name="b45")
        self.s45, self.a45 = w["Mul_47_live_operand"].reshape(-1), w["Add_48_live_operand"].reshape(-1)
        # The 64 channels of conv 1: its 20 live ones, then the 44 constants, put back in order.
        self.dead = w["Conv_45_chain_dead_values"].reshape(-1)
        self.order = w["Conv_45_order"]
        k52 = np.concatenate([as_f32("Conv_52_w_live_only_fp16"), w["Conv_52_w_live_only_dead"]], 3)[:, 0].transpose(1, 2, 0)
        self.k52 = tf.Variable(k52, name="k52")
        self.b52 = tf.Variable(w["w34"], name="b52")
        self.s52, self.a52 = w["w35"].reshape(-1), w["w36"].reshape(-1)
        self.k60 = tf.Variable(as_f32("w37_fp16")[:, 0].transpose(1, 2, 0), name="k60")
        self.b60 = tf.Variable(w["w38"], name="b60")
        self.s60, self.a60 = w["w39"].reshape(-1), w["w40"].reshape(-1)

    def call(self, live):
        c1_live = tf.nn.relu(tf.nn.conv1d(live, self.k45, 1, "SAME") + self.b45) * self.s45 + self.a45
        constants = tf.ones_like(c1_live[..., :1]) * self.dead
        cnn1 = tf.gather(tf.concat([c1_live, constants], -1), self.order, axis=-1)
        c2 = tf.nn.relu(tf.nn.conv1d(tf.concat([c1_live, tf.ones_like(c1_live[..., :1])], -1), self.k52, 1, "SAME") + self.b52)
        res2 = c2 * self.s52 + self.a52 + cnn1
        res3 = tf.nn.relu(tf.nn.conv1d(res2, self.k60, 1, "SAME") + self.b60) * self.s60 + self.a60 + res2
        mids = tf.concat([cnn1, res2, res3], -1)
        return tf.reduce_mean(mids, 1), tf.reduce_max(mids, 1)


def check(features, weights):
    """The mid-end rebuilt here gives the backbone's own embedding (before any training)."""
    live, emb = (np.concatenate([f[i] for f in list(features.values())[:20]]) for i in range(2))
    mean_mid, max_mid = MidEnd(weights)(live)
    error = np.abs(with_mid_end(emb, mean_mid, max_mid).numpy() - emb).max()
    print(f"  mid-end rebuilt: largest difference from the backbone's embedding {error:.2e}", file=sys.stderr, flush=True)
    if error > 1e-3:
        sys.exit("the rebuilt mid-end does not match the backbone")


def head(classes):
    return tf.keras.Sequential([tf.keras.layers.BatchNormalization(), tf.keras.layers.Dropout(0.5), tf.keras.layers.Dense(classes)])


def with_mid_end(emb, mean_mid, max_mid):
    """The embedding `emb` (mean_pool, max_pool) with its mid-end parts replaced by `mean_mid` and `max_mid`."""
    return tf.concat([emb[:, :561], mean_mid, emb[:, 753:753 + 561], max_mid], 1)


def batches(rng, n):
    """The indices of one epoch's shuffled batches over `n` patches."""
    order = rng.permutation(n)
    return (order[s:s + BATCH] for s in range(0, n, BATCH))


def train_and_score(features, weights, train, test, labels, fine_tune, seed):
    """Per-patch training on `train` paths; (truth, predicted) per `test` path (mean of patch probabilities)."""
    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)
    index = {l: i for i, l in enumerate(labels)}

    def stack(paths, with_live):
        rows = [(features[p], index[label]) for p, label in paths]
        live = np.concatenate([f[0] for f, _ in rows]) if with_live else None
        emb = np.concatenate([f[1] for f, _ in rows])
        y = np.concatenate([[c] * len(f[1]) for f, c in rows])
        owner = np.concatenate([[k] * len(f[1]) for k, (f, _) in enumerate(rows)])
        return live, emb, y, owner

    live, emb, y, _ = stack(train, fine_tune)
    net = head(len(labels))
    net.build((None, 1506))
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = tf.keras.optimizers.AdamW(1e-3, weight_decay=0.01)

    @tf.function
    def step_frozen(xb, yb):
        with tf.GradientTape() as tape:
            value = loss(yb, net(xb, training=True))
        opt.apply_gradients(zip(tape.gradient(value, net.trainable_variables), net.trainable_variables))

    for _ in range(EPOCHS):
        for b in batches(rng, len(y)):
            step_frozen(emb[b], y[b])

    if fine_tune:
        mid = MidEnd(weights)
        opt_mid = tf.keras.optimizers.Adam(1e-4)
        opt_head = tf.keras.optimizers.AdamW(1e-4, weight_decay=0.01)

        @tf.function
        def step_ft(lb, eb, yb):
            with tf.GradientTape() as tape:
                mean_mid, max_mid = mid(lb)
                value = loss(yb, net(with_mid_end(eb, mean_mid, max_mid), training=True))
            variables = net.trainable_variables + mid.trainable_variables
            grads = tape.gradient(value, variables)
            n = len(net.trainable_variables)
            opt_head.apply_gradients(zip(grads[:n], variables[:n]))
            opt_mid.apply_gradients(zip(grads[n:], variables[n:]))

        for _ in range(EPOCHS_FT):
            for b in batches(rng, len(y)):
                step_ft(live[b], emb[b], y[b])

    live, emb, _, owner = stack(test, fine_tune)
    if fine_tune:
        outs = []
        for s in range(0, len(owner), 256):
            mean_mid, max_mid = mid(live[s:s + 256])
            outs.append(net(with_mid_end(emb[s:s + 256], mean_mid, max_mid), training=False).numpy())
        logits = np.concatenate(outs)
    else:
        logits = net(emb, training=False).numpy()
    p = tf.nn.softmax(logits).numpy()
    truth, predicted = [], []
    for k, (_, label) in enumerate(test):
        truth.append(index[label])
        predicted.append(int(p[owner == k].mean(0).argmax()))
    return truth, predicted


def score(truth, predicted):
    return f"{accuracy_score(truth, predicted):.1%} / {f1_score(truth, predicted, average='macro'):.3f}"


def main(dump, tasks):
    session, weights = backbone_session()
    for task in tasks:
        tracks = read_tracks(dump, task)
        paths = sorted(tracks)
        print(f"{task}: {len(paths)} files", file=sys.stderr, flush=True)
        features = extract(session, paths)
        check(features, weights)
        labels = sorted({t[0] for t in tracks.values()})
        labelled = [(p, tracks[p][0]) for p in paths]
        folds = list(GroupKFold(5).split(paths, groups=[tracks[p][1] for p in paths]))
        for fine_tune in (False, True):
            truth, predicted = [], []
            for f, (a, b) in enumerate(folds):
                t, pr = train_and_score(features, weights, [labelled[i] for i in a], [labelled[i] for i in b], labels,
                                        fine_tune, seed=f)
                truth += t
                predicted += pr
            cv = score(truth, predicted)
            train = [(p, tracks[p][0]) for p in paths if not tracks[p][2]]
            test = [(p, tracks[p][0]) for p in paths if tracks[p][2]]
            held = score(*train_and_score(features, weights, train, test, labels, fine_tune, seed=0))
            name = f"fine-tuned mid-end (+{EPOCHS_FT} epochs)" if fine_tune else "frozen (the shipped heads' network)"
            print(f"| {task} | {name} | {cv} | {held} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
