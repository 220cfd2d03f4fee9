"""``diff`` validates the base revision after the head in one process and takes from the head what
comes out the same: model files with the same bytes are not loaded again (``KnownModels``), not
resolved again (``KnownDeployments``) and their IR is not built again (``BuiltModels``).  What it
takes must be exactly what the base would give on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mlgitops.ir.build import BuiltModels, build_project
from mlgitops.pipeline import validate_project
from mlgitops.validate.specfiles import KnownModels

GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
# generate.py: model 7 runs an A/B experiment in prod against model 6 (``i % 9 == 7``)
VARIANT, EXPERIMENT = "model-0006", "model-0007"


def _model_file(root: Path, suffix: str) -> Path:
    (found,) = [p for p in (root / "models").rglob("*.yaml") if p.stem.endswith(suffix)]
    return found


def test_what_the_base_takes_from_the_head_is_what_it_builds_alone(tmp_path: Path) -> None:
    head = tmp_path / "head"
    subprocess.run([sys.executable, str(GENERATOR), "12", str(head)], check=True, capture_output=True)
    base = tmp_path / "base"
    shutil.copytree(head, base)
    # the base serves another version of the experiment's variant in prod: the experiment's
    # model, whose file is the same, must show the base's version
    variant = _model_file(base, VARIANT)
    data = yaml.safe_load(variant.read_text(encoding="utf-8"))
    prod = data["spec"]["deployments"]["prod"]
    prod["version"] = "0.0.1"
    prod.pop("canary", None)
    variant.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    known, built = KnownModels(), BuiltModels()
    after = validate_project(head, known=known)
    assert after.ok and after.resolved is not None, after.diagnostics
    after_ir = build_project(after.resolved, "", built)
    before = validate_project(base, known=known)
    assert before.ok and before.resolved is not None, before.diagnostics
    before_ir = build_project(before.resolved, "", built)

    alone = validate_project(base)
    assert alone.ok and alone.resolved is not None
    assert before_ir == build_project(alone.resolved, "")
    assert sorted(d.model.name for d in before.resolved.deployments) == sorted(
        d.model.name for d in alone.resolved.deployments
    )
    head_models = {m.name: m for m in after_ir.models}
    base_models = {m.name: m for m in before_ir.models}
    taken = {name for name, model in base_models.items() if model is head_models.get(name)}
    experiment = next(name for name in base_models if name.endswith(EXPERIMENT))
    assert experiment not in taken, "an experiment reads its variant's version: built again"
    assert base_models[experiment] != head_models[experiment]
    assert not any(name.endswith(VARIANT) for name in taken)
    assert len(taken) == len(base_models) - 2, "every other model is taken as the head built it"


def test_a_changed_project_file_takes_nothing(tmp_path: Path) -> None:
    head = tmp_path / "head"
    subprocess.run([sys.executable, str(GENERATOR), "9", str(head)], check=True, capture_output=True)
    base = tmp_path / "base"
    shutil.copytree(head, base)
    project = base / "mlgitops.yaml"
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    data["metadata"]["labels"] = {**(data["metadata"].get("labels") or {}), "cost-center": "base"}
    project.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    known, built = KnownModels(), BuiltModels()
    after = validate_project(head, known=known)
    assert after.resolved is not None
    after_ir = build_project(after.resolved, "", built)
    before = validate_project(base, known=known)
    assert before.ok and before.resolved is not None, before.diagnostics
    before_ir = build_project(before.resolved, "", built)
    alone = validate_project(base)
    assert alone.resolved is not None
    assert before_ir == build_project(alone.resolved, "")
    head_models = {m.name: m for m in after_ir.models}
    assert not any(m is head_models.get(m.name) for m in before_ir.models)
    assert before_ir.models != after_ir.models  # the project's labels reach every model
