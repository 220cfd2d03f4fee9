"""An explicit ``null`` on a defaulted serving field means "the platform's default" (issue 11).

For every defaulted field under ``serving`` (enumerated from mlgitops' built-in layer and
the pydantic models, so a new field is covered or the test fails asking for a sentinel),
on the KServe and the plain Kubernetes target, with the null at the model layer and at
every per-environment override:

* a baseline sets the field to a distinctive *sentinel* in the project defaults (and
  takes the field out of the model's layers), and the sentinel shows in its outputs;
* the same project with the null never raises: either it compiles and the sentinel is
  gone from every generated file (nothing re-defaulted it back), or ``validate`` fails
  and every error is located on a null.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import copy_specs, edit_yaml, example, generated
from mlgitops.diagnostics import has_errors
from mlgitops.pipeline import compile_project, validate_project
from mlgitops.resolve.builtin import builtin_serving
from mlgitops.spec.base import SpecModel
from mlgitops.spec.serving import ServingSpec

Field = tuple[str, ...]
TARGETS = ("kserve", "kubernetes")
LAYERS = ("model", "override")
MODEL_FILE = "models/iris-classifier.yaml"
_TOKEN = re.compile(r"[A-Za-z0-9_.\-/]+")


def _yaml_name(model: type[SpecModel], name: str) -> str:
    return model.model_fields[name].alias or name


def _nested(annotation: Any) -> type[SpecModel] | None:
    for candidate in getattr(annotation, "__args__", (annotation,)):
        if isinstance(candidate, type) and issubclass(candidate, SpecModel):
            return candidate
    return None


def _all_keys(model: type[SpecModel], prefix: Field) -> Iterator[Field]:
    """Every field of ``model`` below ``prefix``, nested objects and their keys included."""
    for name, info in model.model_fields.items():
        path = (*prefix, _yaml_name(model, name))
        yield path
        nested = _nested(info.annotation)
        if nested is not None:
            yield from _all_keys(nested, path)


def _leaves(tree: dict[str, Any], prefix: Field = ()) -> Iterator[Field]:
    for key, value in tree.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _leaves(value, (*prefix, key))


def defaulted_fields() -> list[Field]:
    """Fields mlgitops' built-in layer sets (on any target or mode), every key of the objects
    among them, and any serving field whose model default is not None."""
    found: set[Field] = set()
    for target in TARGETS:
        for mode in ("serverless", "standard"):
            tree = builtin_serving(target, "sklearn", mode).model_dump(by_alias=True, exclude_none=True)
            found.update(_leaves(tree))
    for name, info in ServingSpec.model_fields.items():
        nested = _nested(info.annotation)
        key = _yaml_name(ServingSpec, name)
        if (key,) in found and nested is not None:
            found.update(_all_keys(nested, (key,)))
        if info.get_default(call_default_factory=True) is not None:
            found.add((key,))
    return sorted(found)


# field → target → (what the baseline puts in spec.defaults.serving, the tokens it shows as)
_STANDARD = {"deploymentMode": "standard"}
# A custom metric on KServe scales through KEDA, in standard mode, with a Prometheus to ask.
KEDA_CUSTOM = {
    "deploymentMode": "standard",
    "autoscaling": {
        "metric": "custom",
        "customMetric": "sentinel_rate",
        "prometheusUrl": "http://prometheus.sentinel:9090",
    },
}
# A Prometheus query on KServe scales through KEDA too, in standard mode.
KEDA_QUERY = {
    "deploymentMode": "standard",
    "autoscaling": {
        "metric": "prometheus",
        "query": "sum(sentinel_query)",
        "serverAddress": "http://prometheus.sentinel:9090",
        "authenticationRef": "sentinel-auth",
        "target": 5,
    },
}
SENTINELS: dict[Field, dict[str, tuple[dict[str, Any], tuple[str, ...]]]] = {
    ("protocol",): {t: ({"protocol": "grpc-v2"}, ("grpc-v2",)) for t in TARGETS},
    # KServe takes a port for a custom container only (a ServingRuntime fixes its own, MLG338)
    ("port",): {
        "kserve": ({"runtime": "custom", "image": "ghcr.io/acme/server:1.0.0", "port": 7777}, ("7777",)),
        "kubernetes": ({"port": 7777}, ("7777",)),
    },
    # the kubernetes target refuses a deploymentMode (MLG338): its null is the only spelling there
    ("deploymentMode",): {"kserve": (_STANDARD, ("Standard",)), "kubernetes": ({}, ())},
    ("resources",): {
        t: ({"resources": {"cpu": "777m", "memory": "777Mi"}}, ("777m", "777Mi")) for t in TARGETS
    },
    ("resources", "cpu"): {t: ({"resources": {"cpu": "777m"}}, ("777m",)) for t in TARGETS},
    ("resources", "memory"): {t: ({"resources": {"memory": "777Mi"}}, ("777Mi",)) for t in TARGETS},
    ("resources", "gpu"): {t: ({"resources": {"gpu": 37}}, ("37",)) for t in TARGETS},
    ("resources", "gpuResource"): {
        t: ({"resources": {"gpu": 1, "gpuResource": "example.com/gpu"}}, ("example.com/gpu",))
        for t in TARGETS
    },
    # requests: null drops every request, the shorthand's too (and so the limits defaulted to them)
    ("resources", "requests"): {
        t: (
            {"resources": {"requests": {"cpu": "777m", "ephemeral-storage": "7777Mi"}}},
            ("777m", "7777Mi"),
        )
        for t in TARGETS
    },
    ("resources", "limits"): {
        t: ({"resources": {"limits": {"cpu": "1777m", "memory": "1777Mi"}}}, ("1777m", "1777Mi"))
        for t in TARGETS
    },
    ("resources", "limits", "cpu"): {
        t: ({"resources": {"limits": {"cpu": "1777m"}}}, ("1777m",)) for t in TARGETS
    },
    ("resources", "limits", "memory"): {
        t: ({"resources": {"limits": {"memory": "1777Mi"}}}, ("1777Mi",)) for t in TARGETS
    },
    # KServe writes a deploymentStrategy in standard mode only (serverless refuses it, MLG338)
    ("rollout",): {
        "kserve": ({**_STANDARD, "rollout": {"maxSurge": 43, "maxUnavailable": 41}}, ("43", "41")),
        "kubernetes": ({"rollout": {"maxSurge": 43, "maxUnavailable": 41}}, ("43", "41")),
    },
    ("rollout", "maxSurge"): {
        "kserve": ({**_STANDARD, "rollout": {"maxSurge": 43}}, ("43",)),
        "kubernetes": ({"rollout": {"maxSurge": 43}}, ("43",)),
    },
    ("rollout", "maxUnavailable"): {
        "kserve": ({**_STANDARD, "rollout": {"maxUnavailable": 41}}, ("41",)),
        "kubernetes": ({"rollout": {"maxUnavailable": 41}}, ("41",)),
    },
    ("autoscaling",): {
        t: ({"autoscaling": {"minReplicas": 19, "maxReplicas": 77, "target": 71}}, ("19", "77", "71"))
        for t in TARGETS
    },
    ("autoscaling", "minReplicas"): {
        t: ({"autoscaling": {"minReplicas": 19, "maxReplicas": 77}}, ("19",)) for t in TARGETS
    },
    ("autoscaling", "maxReplicas"): {t: ({"autoscaling": {"maxReplicas": 77}}, ("77",)) for t in TARGETS},
    ("autoscaling", "target"): {t: ({"autoscaling": {"target": 71}}, ("71",)) for t in TARGETS},
    ("autoscaling", "metric"): {
        "kserve": ({"autoscaling": {"metric": "rps"}}, ("rps",)),
        "kubernetes": (
            {"autoscaling": {"metric": "custom", "customMetric": "sentinel_rate"}},
            ("sentinel_rate",),
        ),
    },
    ("autoscaling", "customMetric"): {
        "kserve": (KEDA_CUSTOM, ("sentinel_rate",)),
        "kubernetes": (
            {"autoscaling": {"metric": "custom", "customMetric": "sentinel_rate"}},
            ("sentinel_rate",),
        ),
    },
    # KEDA's Prometheus on KServe; the plain target's HPA reads custom metrics through an adapter.
    # the kubernetes target refuses the prometheus metric (MLG332): nothing to null there
    ("autoscaling", "query"): {"kserve": (KEDA_QUERY, ("sentinel_query",)), "kubernetes": ({}, ())},
    ("autoscaling", "serverAddress"): {
        "kserve": (KEDA_QUERY, ("//prometheus.sentinel",)),
        "kubernetes": ({}, ()),
    },
    ("autoscaling", "authenticationRef"): {
        "kserve": (KEDA_QUERY, ("sentinel-auth",)),
        "kubernetes": ({}, ()),
    },
    ("autoscaling", "prometheusUrl"): {
        "kserve": (KEDA_CUSTOM, ("http://prometheus.sentinel:9090",)),
        "kubernetes": ({}, ()),
    },
    # mlgitops' switch for minReplicas 0; false and null both leave the platform's minimum,
    # so no output carries it.
    ("autoscaling", "scaleToZero"): {t: ({}, ()) for t in TARGETS},
}


def _deep_merge(into: dict[str, Any], tree: dict[str, Any]) -> None:
    for key, value in tree.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _drop(tree: dict[str, Any] | None, path: Field) -> None:
    node = tree
    for step in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(step), dict):
            return
        node = node[step]
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _set_null(tree: dict[str, Any], path: Field) -> None:
    node = tree
    for step in path[:-1]:
        if not isinstance(node.get(step), dict):
            node[step] = {}
        node = node[step]
    node[path[-1]] = None


def _project(root: Path, target: str, field: Field, layer: str | None) -> Path:
    """A copy of the quickstart on ``target`` with ``field``'s sentinel in the project defaults,
    the field and every value of the sentinel out of the model's layers (so nothing hides
    the sentinel), and (``layer``) the null."""
    copy_specs(example("quickstart"), root)
    baseline, _ = SENTINELS[field][target]

    def project(data: Any) -> None:
        data["spec"]["serving"] = target
        _deep_merge(data["spec"]["defaults"]["serving"], baseline)

    def model(data: Any) -> None:
        spec = data["spec"]
        for path in (field, *_leaves(baseline)):
            _drop(spec["serving"], path)
            for deployment in spec["deployments"].values():
                _drop(deployment, path)
        if layer == "model":
            _set_null(spec["serving"], field)
        elif layer == "override":
            for deployment in spec["deployments"].values():
                _set_null(deployment, field)

    edit_yaml(root / "mlgitops.yaml", project)
    edit_yaml(root / MODEL_FILE, model)
    return root


def _tokens(root: Path) -> set[str]:
    files = generated(root)
    files.pop(".mlgitops/manifest.json")
    return {token for content in files.values() for token in _TOKEN.findall(content.decode("utf-8"))}


@cache
def _baseline_tokens(scratch: Path, target: str, field: Field) -> frozenset[str]:
    root = _project(scratch / f"baseline-{target}-{'.'.join(field)}", target, field, None)
    result = compile_project(root, use_cache=False)
    shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.ok, f"the baseline of {field} on {target} does not compile:\n{shown}"
    return frozenset(_tokens(root))


FIELDS = defaulted_fields()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nulls")


def test_the_enumeration_sees_the_defaulted_fields() -> None:
    """Not vacuous: the fields of the issue are enumerated, and each has a sentinel."""
    expected = {("resources",), ("resources", "cpu"), ("autoscaling",), ("autoscaling", "maxReplicas")}
    assert expected <= set(FIELDS)
    assert {("protocol",), ("port",), ("deploymentMode",), ("autoscaling", "customMetric")} <= set(FIELDS)
    missing = [".".join(f) for f in FIELDS if f not in SENTINELS]
    assert not missing, f"add a sentinel to SENTINELS for each new defaulted field: {missing}"


@pytest.mark.parametrize("field", FIELDS, ids=".".join)
def test_each_sentinel_reaches_the_outputs(scratch: Path, field: Field) -> None:
    """The baseline really carries the value, on at least one target (so absence means something)."""
    needles = {t: SENTINELS[field][t][1] for t in TARGETS}
    if not any(needles.values()):
        assert field == ("autoscaling", "scaleToZero"), f"give {'.'.join(field)} a sentinel that shows"
        return
    shown = [t for t in TARGETS if set(needles[t]) <= _baseline_tokens(scratch, t, field)]
    assert shown, f"no target's output carries the sentinel of {'.'.join(field)}"


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("field", FIELDS, ids=".".join)
def test_null_compiles_to_the_platform_default_or_is_refused_on_the_null(
    scratch: Path, field: Field, target: str, layer: str
) -> None:
    name = "-".join((target, layer, ".".join(field)))
    root = _project(scratch / name, target, field, layer)
    validation = validate_project(root)
    errors = [d for d in validation.diagnostics if has_errors([d])]
    if errors:
        lines = (root / MODEL_FILE).read_text(encoding="utf-8").splitlines()
        for error in errors:
            assert error.location is not None and error.location.file == MODEL_FILE, error
            line = lines[error.location.line - 1].strip()
            assert line == f"{field[-1]}: null", f"{error.code} {error.message} is not on a null: {line!r}"
        return
    result = compile_project(root, use_cache=False)
    assert result.ok, [f"{d.location}: {d.code} {d.message}" for d in result.diagnostics]
    baseline = _baseline_tokens(scratch, target, field)
    carried = [n for n in SENTINELS[field][target][1] if n in baseline]
    left = sorted(set(carried) & _tokens(root))
    assert not left, f"null on {'.'.join(field)} still generates {left} ({target}, {layer})"
