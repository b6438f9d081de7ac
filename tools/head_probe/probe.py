"""How far can any classifier on the musicnn embeddings go? Scores classifier families other than
the trainer's heads (logistic regression, RBF SVM, MLP; per 3-second patch with the app's
mean-of-patch-probabilities verdict, or on a whole track's mean+std of its patch embeddings) on
the same validation split as models/REPORT.md.

Every figure is a validation figure and the table shows all of them: the best one per task is
chosen on validation, so it is an optimistic bound for these embeddings, not a model to ship.

Usage: python probe.py EMBEDDINGS_DIR (written by examples/dump_embeddings.rs) > RESULTS.md
"""
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

warnings.filterwarnings("ignore")
TASKS = ["genre", "mood", "style", "sounds"]
FEATURES = {"mean_pool+max_pool": ["mean_pool", "max_pool"], "+penultimate": ["mean_pool", "max_pool", "penultimate"]}


def classifiers():
    scaled = lambda model: make_pipeline(StandardScaler(), model)
    return {
        "logistic C=0.1": lambda: scaled(LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced")),
        "logistic C=1": lambda: scaled(LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")),
        "RBF SVM C=1": lambda: scaled(SVC(C=1.0, probability=True, class_weight="balanced", random_state=0)),
        "RBF SVM C=10": lambda: scaled(SVC(C=10.0, probability=True, class_weight="balanced", random_state=0)),
        "MLP 64, L2 1": lambda: scaled(MLPClassifier((64,), alpha=1.0, max_iter=300, random_state=0)),
        "MLP 256, L2 1": lambda: scaled(MLPClassifier((256,), alpha=1.0, max_iter=300, random_state=0)),
    }


def load(folder, task, layout):
    meta = pd.read_csv(f"{folder}/{task}.csv", keep_default_na=False)
    width = sum(w for _, w in layout)
    rows = np.fromfile(f"{folder}/{task}.f32", dtype="<f4").reshape(-1, width)
    assert len(rows) == len(meta), f"{task}: {len(rows)} rows for {len(meta)} lines"
    meta["validation"] = meta["validation"].astype(str).str.lower() == "true"
    # The segments inference sees (not the end-aligned tails the trainer may add).
    keep = meta["tail"].values == 0
    return meta[keep].reset_index(drop=True), rows[keep]


def columns(layout, names):
    start, picked = 0, []
    spans = {}
    for name, w in layout:
        spans[name] = (start, start + w)
        start += w
    for name in names:
        picked.extend(range(*spans[name]))
    return picked


def score(truth, predicted):
    return (truth == predicted).mean(), f1_score(truth, predicted, average="macro")


def patch_level(meta, x, make):
    """Trained on patches, verdict = mean of the track's patch probabilities."""
    held = meta.validation.values
    model = make().fit(x[~held], meta.label.values[~held])
    probs = pd.DataFrame(model.predict_proba(x[held]), columns=model.classes_)
    probs["file"] = meta.file.values[held]
    mean = probs.groupby("file").mean()
    truth = meta[held].groupby("file").label.first().loc[mean.index].values
    return score(truth, mean.idxmax(axis=1).values), len(truth)


def track_level(meta, x, make):
    """Trained on tracks: mean and standard deviation of each track's patch embeddings."""
    files = meta.file.values
    order = np.unique(files)
    pooled = np.stack([np.concatenate([x[files == f].mean(0), x[files == f].std(0)]) for f in order])
    first = meta.groupby("file").first().loc[order]
    held = first.validation.values
    model = make().fit(pooled[~held], first.label.values[~held])
    return score(first.label.values[held], model.predict(pooled[held])), int(held.sum())


def main(folder):
    layout = [(n, int(w)) for n, w in (line.strip().split(":") for line in open(f"{folder}/layout.txt") if line.strip())]
    print("# Classifier probe on the musicnn embeddings\n")
    print(__doc__.split("Usage:")[0].strip().replace("\n", " ").replace("  ", "\n\n") + "\n")
    best = {}
    for task in TASKS:
        meta, rows = load(folder, task, layout)
        print(f"## {task}\n\n| classifier | input | level | track accuracy | macro-F1 |\n|---|---|---|---:|---:|")
        for feature_name, names in FEATURES.items():
            x = rows[:, columns(layout, names)]
            for name, make in classifiers().items():
                runs = [("patch", patch_level)]
                if name in ("logistic C=0.1", "RBF SVM C=10"):
                    runs.append(("track mean+std", track_level))
                for level, run in runs:
                    (accuracy, f1), n = run(meta, x, make)
                    print(f"| {name} | {feature_name} | {level} | {accuracy:.1%} | {f1:.3f} |", flush=True)
                    best[task] = max(best.get(task, (0, 0, "", 0)), (accuracy, f1, f"{name}, {feature_name}, {level}", n))
        print()
    print("## Best per task (chosen on validation: an optimistic bound)\n\n| task | validation tracks | best track accuracy | macro-F1 | by |\n|---|---:|---:|---:|---|")
    for task, (accuracy, f1, by, n) in best.items():
        print(f"| {task} | {n} | {accuracy:.1%} | {f1:.3f} | {by} |")


if __name__ == "__main__":
    main(sys.argv[1])
