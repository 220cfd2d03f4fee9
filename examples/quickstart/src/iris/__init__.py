"""The quickstart's training code: a small scikit-learn classifier on the iris data set.

It speaks mlgitops' training contract (docs/ci.md): what to train and where to write
come from ``MLGITOPS_*`` environment variables, hyperparameters from ``--name=value``
arguments (the spec's ``training.params``).  The data set is the copy scikit-learn
ships, so the example runs anywhere; a real project would read ``MLGITOPS_DATA_IRIS_URI``
at ``MLGITOPS_DATA_IRIS_VERSION``.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
MODEL_FILE = "model.joblib"
# A fixed split: training and evaluation must agree on which rows are held out.
TEST_SIZE = 0.3
SPLIT_SEED = 20261101


def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and held-out rows of iris, the same on every call."""
    features, labels = load_iris(return_X_y=True)
    parts = train_test_split(
        features, labels, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=labels
    )
    return parts[0], parts[1], parts[2], parts[3]


def required(name: str) -> str:
    """A variable of the training contract, with a clear message when the pipeline did not set it."""
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} is not set: run this through the mlgitops pipeline (docs/ci.md)")
    return value
