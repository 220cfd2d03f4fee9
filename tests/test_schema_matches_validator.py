"""The published JSON Schema carries the rules the validator enforces where JSON Schema can say
them, so an editor flags a value before ``mlgitops validate`` does.

Each case writes one bad value into the quickstart example and checks both sides: ``validate``
refuses it (so the schema is never stricter than the validator: the example itself passes both,
tests/test_examples.py) and the generated schema refuses it too."""

from __future__ import annotations

import copy
import datetime
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compile_helpers import example
from mlgitops.pipeline import validate_project
from mlgitops.spec.jsonschema import kind_schema

TODAY = datetime.date(2026, 1, 1)
MODEL_FILE = "models/iris-classifier.yaml"

# (file, path into the document, bad value)
BAD_VALUES: list[tuple[str, tuple[str | int, ...], Any]] = [
    (MODEL_FILE, ("spec", "deployments", "prod", "canary"), {"version": "1.3.0", "traffic": 150}),
    # (traffic 0 is refused by validate only without a gateway-api or istio router, which the
    # model file's schema cannot see: tests/targets/serving/test_routes.py)
    (MODEL_FILE, ("spec", "deployments", "prod", "canary"), {"version": "1.3.0", "traffic": 100}),
    (MODEL_FILE, ("spec", "monitoring", "slos", "availability", "objective"), 100),
    (MODEL_FILE, ("spec", "monitoring", "slos", "availability", "objective"), 0),
    (MODEL_FILE, ("spec", "monitoring", "slos", "latency", "threshold"), "300"),
    (MODEL_FILE, ("spec", "monitoring", "slos", "availability", "window"), "30 days"),
    (MODEL_FILE, ("spec", "serving", "autoscaling", "minReplicas"), -1),
    (MODEL_FILE, ("spec", "serving", "autoscaling", "maxReplicas"), 0),
    (MODEL_FILE, ("spec", "serving", "autoscaling", "maxReplicas"), 1001),
    (MODEL_FILE, ("spec", "serving", "port"), 0),
    (MODEL_FILE, ("spec", "serving", "port"), 65536),
    (MODEL_FILE, ("spec", "serving", "resources"), {"cpu": "2 cores"}),
    (MODEL_FILE, ("spec", "serving", "resources"), {"memory": "1GB"}),
    (MODEL_FILE, ("spec", "serving", "resources"), {"memory": -1}),
    (MODEL_FILE, ("spec", "training", "schedule"), "0 4 * *"),
    (MODEL_FILE, ("spec", "training", "schedule"), "0 4 * * 1 2026"),
    (MODEL_FILE, ("spec", "training", "schedule"), "@daily"),
    (MODEL_FILE, ("spec", "training", "schedule"), "0 4 ? * 1"),
    (MODEL_FILE, ("spec", "training", "schedule"), "every monday"),
    (MODEL_FILE, ("spec", "training", "timeoutMinutes"), 0),
    (MODEL_FILE, ("spec", "training", "image"), "GHCR.io/Acme/Iris Train"),
    (MODEL_FILE, ("spec", "deployments", "prod", "version"), "-1.2.0"),
    (MODEL_FILE, ("spec", "deployments", "Prod"), {"version": "1.2.0"}),
    (MODEL_FILE, ("spec", "data", 0, "name"), "Iris_Data"),
    (MODEL_FILE, ("spec", "serving", "artifact"), "s3://acme-models/{model}/"),
    (MODEL_FILE, ("metadata", "name"), "1iris"),
    ("mlgitops.yaml", ("spec", "environments", 0, "namespace"), "ML_Dev"),
    ("mlgitops.yaml", ("spec", "environments", 0, "name"), "dev-" + "x" * 60),
    ("mlgitops.yaml", ("spec", "flux", "interval"), "5"),
    ("mlgitops.yaml", ("spec", "defaults", "serving", "resources", "gpu"), 65),
]


def _write_with(tmp_path: Path, file: str, path: tuple[str | int, ...], value: Any) -> Any:
    """Copy the quickstart example to ``tmp_path/project`` with ``value`` written at ``path``."""
    root = tmp_path / "project"
    source = example("quickstart")
    root.mkdir()
    shutil.copy2(source / "mlgitops.yaml", root / "mlgitops.yaml")
    shutil.copytree(source / "models", root / "models")
    document = yaml.safe_load((root / file).read_text(encoding="utf-8"))
    original = copy.deepcopy(document)
    _set(document, path, value)
    assert document != original
    (root / file).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return document


def _validator(file: str) -> jsonschema.Draft202012Validator:
    schema = kind_schema("project" if file == "mlgitops.yaml" else "model")
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document.setdefault(key, {}) if isinstance(document, dict) else document[key]
    document[path[-1]] = value


@pytest.mark.parametrize(("file", "path", "value"), BAD_VALUES, ids=lambda v: repr(v)[:40])
def test_a_value_validate_refuses_the_schema_refuses(
    tmp_path: Path, file: str, path: tuple[str | int, ...], value: Any
) -> None:
    document = _write_with(tmp_path, file, path, value)
    errors = [
        d
        for d in validate_project(tmp_path / "project", today=TODAY).diagnostics
        if d.severity.value == "error"
    ]
    assert errors, "validate accepts the value, so the schema must not refuse it"
    assert not _validator(file).is_valid(document), (
        f"the schema accepts {value!r} at {'.'.join(map(str, path))}"
    )


# Edge values the validator accepts: the schema must accept them as well.
GOOD_VALUES: list[tuple[str, tuple[str | int, ...], Any]] = [
    (MODEL_FILE, ("spec", "deployments", "prod", "canary"), {"version": "1.3.0", "traffic": 1}),
    (MODEL_FILE, ("spec", "deployments", "prod", "canary"), {"version": "1.3.0", "traffic": 99}),
    (MODEL_FILE, ("spec", "training", "schedule"), "*/15 0-6,22-23 1-31/2 jan-MAR mon-fri"),
    (MODEL_FILE, ("spec", "training", "schedule"), "  0\t4 * *  SUN "),
    (MODEL_FILE, ("spec", "serving", "autoscaling"), {"minReplicas": 1, "maxReplicas": 1000}),
    # a port of its own is for custom containers on KServe (MLG338): a probe's takes the bound
    (MODEL_FILE, ("spec", "serving", "probes"), {"readiness": {"port": 65535}}),
    (MODEL_FILE, ("spec", "monitoring", "slos", "availability", "objective"), 99.999),
]


@pytest.mark.parametrize(("file", "path", "value"), GOOD_VALUES, ids=lambda v: repr(v)[:40])
def test_a_value_validate_accepts_the_schema_accepts(
    tmp_path: Path, file: str, path: tuple[str | int, ...], value: Any
) -> None:
    document = _write_with(tmp_path, file, path, value)
    diagnostics = validate_project(tmp_path / "project", today=TODAY).diagnostics
    assert not [d for d in diagnostics if d.severity.value == "error"], diagnostics
    assert _validator(file).is_valid(document)


def _key_paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every mapping key below ``spec``, depth first: the places where a user may write ``null``."""
    paths: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            paths.append((*prefix, key))
            paths.extend(_key_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths.extend(_key_paths(value, (*prefix, index)))
    return paths


def _null_cases() -> list[tuple[str, tuple[str | int, ...]]]:
    source = example("quickstart")
    cases: list[tuple[str, tuple[str | int, ...]]] = []
    for file in ("mlgitops.yaml", MODEL_FILE):
        document = yaml.safe_load((source / file).read_text(encoding="utf-8"))
        cases.extend((file, ("spec", *path)) for path in _key_paths(document["spec"]))
    return cases


@pytest.mark.parametrize(("file", "path"), _null_cases(), ids=lambda v: repr(v)[:60])
def test_an_explicit_null_validate_accepts_the_schema_accepts(
    tmp_path: Path, file: str, path: tuple[str | int, ...]
) -> None:
    """``null`` means "the platform's default" (or unset): wherever ``validate`` takes it, an
    editor must not flag it. (Where ``validate`` refuses it, the reason is mostly one a single
    file's schema cannot see, such as a value no layer sets or a policy: not asserted here.)"""
    document = _write_with(tmp_path, file, path, None)
    diagnostics = validate_project(tmp_path / "project", today=TODAY).diagnostics
    if [d for d in diagnostics if d.severity.value == "error"]:
        return
    errors = [e.message for e in _validator(file).iter_errors(document)]
    assert not errors, f"validate accepts null at {'.'.join(map(str, path))}: {errors}"
