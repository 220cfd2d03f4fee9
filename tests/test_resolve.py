"""Resolution of serving settings (mlgitops.resolve): precedence, merging and provenance.

Precedence, lowest first: mlgitops built-in < project defaults < environment < model
< the model's per-environment deployment override.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from mlgitops.pipeline import validate_project
from mlgitops.resolve import ResolvedDeployment
from mlgitops.resolve.layers import Layer, Merged, Origin, merge
from mlgitops.spec.serving import ServingSpec

TODAY = datetime.date(2026, 1, 1)

PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata:
  name: demo
spec:
  repository: https://github.com/acme/ml.git
  registry: {kind: mlflow, trackingUri: "https://mlflow.acme.test"}
  environments:
    - name: dev
      namespace: ml-dev
    - name: staging
      namespace: ml-staging
    - name: prod
      namespace: ml-prod
      serving:
        resources:
          memory: 4Gi
        env:
          TIER: prod
          REGION: eu
          LOG_LEVEL: warn
        args: [--workers, "4"]
        autoscaling:
          target: 25
  defaults:
    serving:
      resources:
        cpu: 250m
        memory: 512Mi
      env:
        LOG_LEVEL: info
        REGION: us
      autoscaling:
        maxReplicas: 5
      annotations:
        acme.test/owner: platform
"""

MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: iris
  owner: data-science
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{model}/{version}/"
    env:
      LOG_LEVEL: debug
    resources:
      cpu: "1"
    autoscaling:
      minReplicas: 2
    tolerations:
      - {key: gpu, operator: Exists}
  deployments:
    dev:
      version: "1.0.0"
    staging:
      version: "1.0.0"
      annotations: null
      resources:
        memory: null
      tolerations: []
    prod:
      version: "1.0.0"
      args: [--workers, "8"]
      autoscaling:
        maxReplicas: 20
      env:
        TIER: production
"""


def _line(text: str, snippet: str) -> int:
    """The line number of the only line containing ``snippet``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(found) == 1, (snippet, found)
    return found[0]


def _write(root: Path, project: str = PROJECT, model: str = MODEL) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(project, encoding="utf-8")
    (root / "models" / "iris.yaml").write_text(model, encoding="utf-8")
    return root


@pytest.fixture
def resolved(tmp_path: Path) -> dict[str, ResolvedDeployment]:
    result = validate_project(_write(tmp_path), today=TODAY)
    assert result.diagnostics == []
    assert result.resolved is not None
    return {item.environment.name: item for item in result.resolved.for_model("iris")}


def _where(serving: Merged, *path: str) -> str:
    origin = serving.origin(*path)
    assert origin is not None, path
    return origin.describe()


P, M = "mlgitops.yaml", "models/iris.yaml"


def test_one_resolved_deployment_per_environment_in_order(resolved: dict[str, ResolvedDeployment]) -> None:
    assert list(resolved) == ["dev", "staging", "prod"]
    assert [item.order for item in resolved.values()] == [0, 1, 2]


def test_builtin_defaults_are_the_lowest_layer(resolved: dict[str, ResolvedDeployment]) -> None:
    dev = resolved["dev"].serving
    assert dev.get("protocol") == "v1"
    assert dev.get("port") == 8080
    assert dev.get("deploymentMode") == "serverless"
    assert dev.get("autoscaling", "metric") == "concurrency"
    assert dev.get("autoscaling", "target") == 10
    for path in [("protocol",), ("port",), ("autoscaling", "metric"), ("autoscaling", "target")]:
        assert _where(dev, *path) == "built in (mlgitops default)"


def test_project_defaults_override_builtin(resolved: dict[str, ResolvedDeployment]) -> None:
    dev = resolved["dev"].serving
    assert dev.get("resources", "memory") == "512Mi"  # built in: 1Gi
    assert _where(dev, "resources", "memory") == f"{P}:{_line(PROJECT, 'memory: 512Mi')} (project defaults)"
    assert dev.get("autoscaling", "maxReplicas") == 5  # built in: 3
    assert (
        _where(dev, "autoscaling", "maxReplicas")
        == f"{P}:{_line(PROJECT, 'maxReplicas: 5')} (project defaults)"
    )
    assert dev.get("env", "REGION") == "us"
    assert dev.get("annotations") == {"acme.test/owner": "platform"}


def test_environment_overrides_project_defaults(resolved: dict[str, ResolvedDeployment]) -> None:
    prod = resolved["prod"].serving
    assert prod.get("resources", "memory") == "4Gi"
    assert _where(prod, "resources", "memory") == f"{P}:{_line(PROJECT, 'memory: 4Gi')} (environment prod)"
    assert prod.get("env", "REGION") == "eu"
    assert _where(prod, "env", "REGION") == f"{P}:{_line(PROJECT, 'REGION: eu')} (environment prod)"
    assert prod.get("autoscaling", "target") == 25
    # The environment layer applies to its environment only.
    assert resolved["dev"].serving.get("resources", "memory") == "512Mi"
    assert resolved["dev"].serving.get("env", "TIER") is None


def test_model_overrides_environment(resolved: dict[str, ResolvedDeployment]) -> None:
    prod = resolved["prod"].serving
    assert prod.get("env", "LOG_LEVEL") == "debug"  # defaults: info, environment: warn
    assert _where(prod, "env", "LOG_LEVEL") == f"{M}:{_line(MODEL, 'LOG_LEVEL: debug')} (model)"
    assert prod.get("resources", "cpu") == "1"  # defaults: 250m
    assert _where(prod, "resources", "cpu") == f"{M}:{_line(MODEL, 'cpu:')} (model)"
    assert prod.get("runtime") == "sklearn"
    assert _where(prod, "runtime") == f"{M}:{_line(MODEL, 'runtime: sklearn')} (model)"


def test_deployment_override_wins(resolved: dict[str, ResolvedDeployment]) -> None:
    prod = resolved["prod"].serving
    assert prod.get("autoscaling", "maxReplicas") == 20
    assert (
        _where(prod, "autoscaling", "maxReplicas")
        == f"{M}:{_line(MODEL, 'maxReplicas: 20')} (deployment prod)"
    )
    assert prod.get("env", "TIER") == "production"  # environment: prod
    assert _where(prod, "env", "TIER") == f"{M}:{_line(MODEL, 'TIER: production')} (deployment prod)"
    # Deployment-only fields are not serving settings.
    assert prod.get("version") is None
    assert prod.get("canary") is None


def test_nested_objects_merge_field_by_field(resolved: dict[str, ResolvedDeployment]) -> None:
    prod = resolved["prod"].serving
    # autoscaling: minReplicas from the model, maxReplicas from the deployment,
    # target from the environment, metric built in.
    assert prod.get("autoscaling") == {
        "minReplicas": 2,
        "maxReplicas": 20,
        "scaleToZero": False,
        "metric": "concurrency",
        "target": 25,
    }
    assert _where(prod, "autoscaling", "minReplicas") == f"{M}:{_line(MODEL, 'minReplicas: 2')} (model)"
    assert _where(prod, "autoscaling", "target") == f"{P}:{_line(PROJECT, 'target: 25')} (environment prod)"
    # resources: cpu from the model, memory from the environment.
    assert prod.get("resources") == {"cpu": "1", "memory": "4Gi"}


def test_mappings_merge_key_by_key(resolved: dict[str, ResolvedDeployment]) -> None:
    assert resolved["prod"].serving.get("env") == {
        "LOG_LEVEL": "debug",
        "REGION": "eu",
        "TIER": "production",
    }
    assert resolved["dev"].serving.get("env") == {"LOG_LEVEL": "debug", "REGION": "us"}


def test_lists_replace(resolved: dict[str, ResolvedDeployment]) -> None:
    prod = resolved["prod"].serving
    assert prod.get("args") == ["--workers", "8"]  # not appended to the environment's list
    assert _where(prod, "args") == f"{M}:{_line(MODEL, 'args:')} (deployment prod)"
    assert resolved["staging"].serving.get("tolerations") == []  # an empty list replaces too
    assert len(resolved["dev"].serving.get("tolerations")) == 1


def test_explicit_null_removes(resolved: dict[str, ResolvedDeployment]) -> None:
    staging, dev = resolved["staging"].serving, resolved["dev"].serving
    assert dev.get("annotations") is not None
    assert staging.get("annotations") is None
    assert staging.origin("annotations") is None
    # memory: defaults say 512Mi and the built-in 1Gi, and null removes both.
    assert staging.get("resources") == {"cpu": "1"}
    assert staging.origin("resources", "memory") is None


def test_explain_origin_points_at_the_key_value(resolved: dict[str, ResolvedDeployment]) -> None:
    origin = resolved["prod"].serving.origin("env", "TIER")
    assert origin is not None
    location = origin.location()
    assert location is not None
    line = MODEL.splitlines()[location.line - 1]
    assert line[location.column - 1 :].startswith("production")


@pytest.mark.parametrize(
    ("target", "runtime", "mode", "expected"),
    [
        ("kserve", "sklearn", None, {"protocol": "v1", "metric": "concurrency", "target": 10}),
        ("kserve", "triton", None, {"protocol": "v2", "metric": "concurrency", "target": 10}),
        ("kserve", "sklearn", "standard", {"protocol": "v1", "metric": "cpu", "target": 80}),
        ("kubernetes", "custom", None, {"protocol": "v1", "metric": "cpu", "target": 80}),
    ],
)
def test_builtin_defaults_depend_on_target_runtime_and_mode(
    tmp_path: Path, target: str, runtime: str, mode: str | None, expected: dict[str, Any]
) -> None:
    project = PROJECT.replace("  environments:\n", f"  serving: {target}\n  environments:\n", 1)
    serving = f"    runtime: {runtime}\n    image: ghcr.io/acme/server:1.0.0\n"
    if mode:
        serving += f"    deploymentMode: {mode}\n"
    model = MODEL.replace("    runtime: sklearn\n", serving).replace(
        "      minReplicas: 2\n", "      minReplicas: 1\n"
    )
    result = validate_project(_write(tmp_path, project, model), today=TODAY)
    assert result.resolved is not None, result.diagnostics
    dev = {i.environment.name: i for i in result.resolved.deployments}["dev"].serving
    assert dev.get("protocol") == expected["protocol"]
    assert dev.get("autoscaling", "metric") == expected["metric"]
    assert dev.get("autoscaling", "target") == expected["target"]


def test_retired_models_resolve_to_nothing(tmp_path: Path) -> None:
    model = MODEL.split("  deployments:", maxsplit=1)[0] + "  lifecycle: {stage: retired}\n"
    result = validate_project(_write(tmp_path, model=model), today=TODAY)
    assert result.diagnostics == []
    assert result.resolved is not None
    assert result.resolved.deployments == ()


# ---- the merge itself, on hand-made layers


def _layer(name: str, **values: Any) -> Layer:
    return Layer(ServingSpec.model_validate(values), Origin(name))


def test_merge_precedence_and_origins() -> None:
    merged = merge(
        [
            _layer("a", port=1, protocol="v1", resources={"cpu": "1", "memory": "1Gi"}),
            _layer("b", port=2, resources={"cpu": "2"}),
            _layer("c", protocol="v2"),
        ]
    )
    assert merged.values == {"port": 2, "protocol": "v2", "resources": {"cpu": "2", "memory": "1Gi"}}
    origin = merged.origin
    assert [
        origin("port"),
        origin("protocol"),
        origin("resources", "cpu"),
        origin("resources", "memory"),
    ] == [
        Origin("b", None, ("port",)),
        Origin("c", None, ("protocol",)),
        Origin("b", None, ("resources", "cpu")),
        Origin("a", None, ("resources", "memory")),
    ]


def test_merge_unset_fields_do_not_override() -> None:
    merged = merge([_layer("a", port=1), _layer("b"), Layer(None, Origin("none"))])
    assert merged.values == {"port": 1}


def test_merge_null_removes_a_whole_object_and_its_origins() -> None:
    merged = merge(
        [_layer("a", autoscaling={"minReplicas": 1, "maxReplicas": 3}), _layer("b", autoscaling=None)]
    )
    assert merged.values == {}
    assert merged.origin("autoscaling", "minReplicas") is None
    # ... and a later layer starts it afresh.
    again = merge(
        [
            _layer("a", autoscaling={"minReplicas": 1, "maxReplicas": 3}),
            _layer("b", autoscaling=None),
            _layer("c", autoscaling={"maxReplicas": 9}),
        ]
    )
    assert again.values == {"autoscaling": {"maxReplicas": 9}}


def test_merge_secret_references_are_values_not_objects() -> None:
    merged = merge(
        [
            _layer("a", env={"TOKEN": {"fromSecret": {"name": "s", "key": "k"}}}),
            _layer("b", env={"TOKEN": {"fromCiSecret": "TOKEN"}}),
        ]
    )
    token = merged.get("env", "TOKEN")
    assert token.from_ci_secret == "TOKEN"
    assert token.from_secret is None
    assert merged.origin("env", "TOKEN") == Origin("b", None, ("env", "TOKEN"))


def test_merge_lists_replace_whole() -> None:
    merged = merge([_layer("a", args=["x", "y"]), _layer("b", args=["z"])])
    assert merged.get("args") == ["z"]
    assert merged.origin("args") == Origin("b", None, ("args",))
