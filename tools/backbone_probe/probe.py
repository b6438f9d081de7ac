"""Compares the checkpoints in the musicnn wheel as embeddings for Musicat's tasks.

One classifier for all (standardised, logistic regression C=0.1 with balanced classes, trained per
3-second patch; a track's verdict is the mean of its patch probabilities, as in the app), scored
two ways per task and checkpoint:
- validation: trained on the training split, scored on the held-out split of models/REPORT.md;
- CV in training: grouped 5-fold cross-validation inside the training split only (groups as the
  split's: GTZAN index blocks, 4Q artists, ballroom songs, UrbanSound8K recordings), which never
  sees the validation split and so can choose a checkpoint without tuning to it.

Usage: python probe.py DUMP_DIR FEATURES_DIR MODEL... > RESULTS.md
"""
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
TASKS = ["genre", "mood", "style", "sounds"]


def tracks(dump, task):
    meta = pd.read_csv(f"{dump}/{task}.csv", keep_default_na=False)
    meta["validation"] = meta.validation.astype(str).str.lower() == "true"
    return meta.groupby("path").agg(label=("label", "first"), group=("group", "first"),
                                    validation=("validation", "first")).reset_index()


def fit_and_score(features, train, test):
    """Per-patch fit on `train` tracks; (truth, prediction) per `test` track."""
    def rows(frame):
        x = [features[p] for p in frame.path]
        labels = np.concatenate([[label] * len(v) for v, label in zip(x, frame.label)])
        files = np.concatenate([[p] * len(v) for v, p in zip(x, frame.path)])
        return np.concatenate(x), labels, files
    x, y, _ = rows(train)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced"))
    model.fit(x, y)
    x, _, files = rows(test)
    probabilities = pd.DataFrame(model.predict_proba(x), columns=model.classes_)
    probabilities["file"] = files
    mean = probabilities.groupby("file").mean()
    return list(test.set_index("path").loc[mean.index].label), list(mean.idxmax(axis=1))


def cell(truth, predicted):
    truth, predicted = np.array(truth), np.array(predicted)
    return f"{(truth == predicted).mean():.1%} / {f1_score(truth, predicted, average='macro'):.3f}"


def unwrapped(text):
    """The docstring as Markdown: its wrapped lines joined, "- " lines kept as list items."""
    lines = []
    for line in text.strip().splitlines():
        line = line.strip()
        if lines and line and not line.startswith("- ") and lines[-1]:
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines)


def main(dump, folder, names):
    print("# Which musicnn checkpoint?\n")
    print(unwrapped(__doc__.split("Usage:")[0]) + "\n")
    features = {}
    for name in names:
        z = np.load(f"{folder}/{name}.npz")
        features[name] = {p: z[f"f{i}"] for i, p in enumerate(z["paths"])}
    print("| task | checkpoint | values per patch | validation (acc / macro-F1) | CV in training (acc / macro-F1) |")
    print("|---|---|---:|---:|---:|")
    for task in TASKS:
        frame = tracks(dump, task)
        train = frame[~frame.validation].reset_index(drop=True)
        for name in names:
            validation = cell(*fit_and_score(features[name], train, frame[frame.validation]))
            truth, predicted = [], []
            for a, b in GroupKFold(5).split(train, groups=train.group):
                t, p = fit_and_score(features[name], train.iloc[a], train.iloc[b])
                truth += t
                predicted += p
            width = next(iter(features[name].values())).shape[1]
            print(f"| {task} ({int(frame.validation.sum())} held out, {len(train)} in training) | {name} | {width} | {validation} "
                  f"| {cell(truth, predicted)} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
