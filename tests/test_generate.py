"""benchmarks/generate.py writes a valid, deterministic project that exercises the spec language."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlgitops.diagnostics import Diagnostic
from mlgitops.load import load_document
from mlgitops.pipeline import validate_project

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "benchmarks" / "generate.py"
# One value per project: the generator writes GitHub + Argo CD + KServe + MLflow; the
# alternatives are covered by examples/gitlab-flux-k8s. `templates` names a directory of
# override templates, which a synthetic project has no use for.
# service: the plain-Kubernetes Service, refused on the generated (KServe) project; includeFrom:
# GitLab only; requirements: the other install source than the git commit the generator pins
# (tests/test_ci_install.py covers both)
# gitlab/tokenVar: GitLab's settings, refused with GitHub (MLG206); the environments' dependsOn
# is Flux's (the key itself appears under flux)
NOT_GENERATED_KEYS = {
    "templates",
    "artifactUri",
    "service",
    "includeFrom",
    "requirements",
    "gitlab",
    "tokenVar",
}
# istio and kserve-native: the other routers (tests/targets/serving/test_routes.py covers them)
# files: rule files and promtool tests instead of PrometheusRule objects, another output than the
# benchmark measures (tests/test_prometheus_rules.py covers it)
NOT_GENERATED_VALUES = {"gitlab", "flux", "artifact", "istio", "kserve-native", "files"}


def generate(n: int, outdir: Path, *options: str) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), str(n), str(outdir), *options], check=True, capture_output=True
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def load(path: Path) -> dict[str, Any]:
    doc, problems = load_document(path, path.name)
    assert doc is not None, problems
    return doc.data


def models(root: Path) -> list[dict[str, Any]]:
    return [load(path) for path in sorted(root.glob("models/**/*.yaml"))]


def walk(node: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair and every scalar (as (None, scalar)) in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)
    else:
        yield None, node


def schema_vocabulary(node: Any, keys: set[str], values: set[str]) -> None:
    """All property names and enum (or const) values in a JSON Schema."""
    if isinstance(node, dict):
        keys.update(node.get("properties", {}))
        values.update(str(v) for v in node.get("enum", ()))
        if "const" in node:
            values.add(str(node["const"]))
        for child in node.values():
            schema_vocabulary(child, keys, values)
    elif isinstance(node, list):
        for child in node:
            schema_vocabulary(child, keys, values)


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("gen") / "five"
    generate(5, outdir)
    return outdir


def unexpected(diagnostics: list[Diagnostic]) -> list[str]:
    """All but the notes (MLG337) on the security relaxations the generator writes on purpose."""
    return [f"{d.location}: {d.code} {d.message}" for d in diagnostics if d.code != "MLG337"]


def test_generated_project_validates_clean(five: Path) -> None:
    result = validate_project(five)
    assert unexpected(result.diagnostics) == []
    assert result.resolved is not None
    assert len(result.resolved.deployments) == 5 * 3


def test_generating_twice_is_byte_identical(five: Path, tmp_path: Path) -> None:
    generate(5, tmp_path / "again")
    assert tree(tmp_path / "again") == tree(five)


def test_regenerating_into_the_same_directory_replaces_the_old_project(five: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "reused"
    generate(9, outdir)
    generate(5, outdir)
    assert tree(outdir) == tree(five)


def test_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "5", str(tmp_path)], check=False, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_generated_project_exercises_the_features(five: Path) -> None:
    specs = [m["spec"] for m in models(five)]
    serving = [s.get("serving", {}) for s in specs]
    prods = [s["deployments"]["prod"] for s in specs if "prod" in s.get("deployments", {})]
    devs = [s["deployments"]["dev"] for s in specs if "dev" in s.get("deployments", {})]
    assert any("canary" in prod for prod in prods)
    assert any(v.get("resources", {}).get("gpu") for v in serving)
    assert any(v.get("runtime") == "custom" and v.get("image") for v in serving)
    assert any("transformer" in v for v in serving)
    assert any(s.get("lifecycle", {}).get("stage") == "deprecated" for s in specs)
    assert any(s.get("lifecycle", {}).get("stage") == "retired" for s in specs)
    assert any(s.get("training", {}).get("runner") == "kubernetes" for s in specs)
    assert any(dev.get("autoscaling", {}).get("scaleToZero") for dev in devs)
    assert any("drift" in s.get("monitoring", {}) for s in specs)
    assert any(key == "fromSecret" for s in specs for key, _ in walk(s))
    assert len({v.get("runtime") for v in serving}) >= 5


def test_nine_models_use_every_field_and_value_of_the_schema(tmp_path: Path) -> None:
    generate(9, tmp_path)
    keys: set[str] = set()
    values: set[str] = set()
    for name in ("project.v1.json", "model.v1.json"):
        schema_vocabulary(json.loads((ROOT / "schemas" / name).read_text()), keys, values)
    docs = [*models(tmp_path), load(tmp_path / "mlgitops.yaml")]
    pairs = [pair for doc in docs for pair in walk(doc)]
    used_keys = {key for key, _ in pairs if key is not None}
    used_values = {str(value) for _, value in pairs if not isinstance(value, dict | list)}
    assert keys - used_keys == NOT_GENERATED_KEYS
    assert values - used_values == NOT_GENERATED_VALUES
    assert unexpected(validate_project(tmp_path).diagnostics) == []


def test_the_serving_only_project_validates_and_leaves_out_training_and_monitoring(tmp_path: Path) -> None:
    """`--serving-only`: what compile generated when issue 3 set its speed target."""
    generate(9, tmp_path, "--serving-only")
    result = validate_project(tmp_path)
    assert unexpected(result.diagnostics) == []
    assert result.resolved is not None and len(result.resolved.deployments) == 9 * 3
    for model in models(tmp_path):
        assert not {"training", "evaluation", "monitoring"} & set(model["spec"]), model["metadata"]
