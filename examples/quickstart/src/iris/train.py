"""``python -m iris.train --n_estimators=100 --max_depth=4``: train and write the model.

Writes ``model.joblib`` (what KServe's sklearn runtime loads) and ``training.json`` (the
version, its data sources and hyperparameters) into ``MLGITOPS_OUTPUT_DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestClassifier

from iris import MODEL_FILE, required, split


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="iris.train")
    parser.add_argument("--n_estimators", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=None)
    return parser.parse_args(argv)


def data_sources() -> dict[str, str]:
    """The spec's data sources as the pipeline passed them (``MLGITOPS_DATA_<NAME>_URI``/``_VERSION``)."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("MLGITOPS_DATA_")}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    output = Path(required("MLGITOPS_OUTPUT_DIR"))
    version = required("MLGITOPS_VERSION")
    train_x, _, train_y, _ = split()
    model = RandomForestClassifier(
        n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=0
    )
    model.fit(train_x, train_y)
    output.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output / MODEL_FILE)
    record = {
        "model": required("MLGITOPS_MODEL"),
        "version": version,
        "params": {"n_estimators": args.n_estimators, "max_depth": args.max_depth},
        "data": data_sources(),
        "trainingRows": len(train_y),
    }
    (output / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"trained {record['model']} {version} on {len(train_y)} rows into {output}")


if __name__ == "__main__":
    main()
