"""``python -m iris.evaluate``: score the trained model on the held-out rows.

Reads ``model.joblib`` from ``MLGITOPS_MODEL_DIR`` and writes the metrics the spec's
gates read (``accuracy``, ``f1_macro``) to ``MLGITOPS_METRICS_FILE`` as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
from sklearn.metrics import accuracy_score, f1_score

from iris import MODEL_FILE, required, split


def main() -> None:
    model = joblib.load(Path(required("MLGITOPS_MODEL_DIR")) / MODEL_FILE)
    _, test_x, _, test_y = split()
    predicted = model.predict(test_x)
    metrics = {
        "accuracy": float(accuracy_score(test_y, predicted)),
        "f1_macro": float(f1_score(test_y, predicted, average="macro")),
    }
    Path(required("MLGITOPS_METRICS_FILE")).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"evaluated {required('MLGITOPS_MODEL')} {required('MLGITOPS_VERSION')}: {metrics}")


if __name__ == "__main__":
    main()
