"""What the spec says reaches the cluster as the serving platform understands it (issue 11):
a custom scaling metric on KServe, the user's own ``serving.kserve.io/*`` annotations, the
artifact schemes each target fetches, and where Triton's metrics are scraped.  The refusals
themselves are in tests/cases/invalid/ (MLG332–MLG335); here the accepted side, rendered and
checked with the validators tests/test_outputs_valid.py uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import MINIMAL_PROJECT
from mlgitops.pipeline import generate_files
from test_outputs_valid import kubernetes_errors, schema_errors

Objects = dict[str, dict[str, Any]]  # "kind/name" → object


def _project(root: Path, target: str, model_serving: dict[str, Any], monitoring: Any = None) -> Path:
    project = yaml.safe_load(MINIMAL_PROJECT)
    project["spec"]["serving"] = target
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(yaml.safe_dump(project), encoding="utf-8")
    model: dict[str, Any] = {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {"name": "iris", "owner": "ds"},
        "spec": {"serving": model_serving, "deployments": {"dev": {"version": "1.0.0"}}},
    }
    if monitoring is not None:
        model["spec"]["monitoring"] = monitoring
    (root / "models" / "iris.yaml").write_text(yaml.safe_dump(model), encoding="utf-8")
    return root


def _compile(root: Path) -> tuple[Objects, dict[str, str]]:
    result = generate_files(root)
    assert result.ok, [f"{d.location}: {d.code} {d.message}" for d in result.diagnostics]
    objects: Objects = {}
    texts = {f.path: f.content for f in result.files}
    for file in result.files:
        if file.environment is None or not file.path.endswith(".yaml"):
            continue
        for document in yaml.safe_load_all(file.content):
            objects[f"{document['kind']}/{document['metadata']['name']}"] = document
            errors = schema_errors(document) if "." in document["apiVersion"].split("/")[0] else []
            errors += kubernetes_errors(document) if "." not in document["apiVersion"].split("/")[0] else []
            assert not errors, f"{file.path}: {errors}"
    return objects, texts


def _codes(root: Path) -> list[str]:
    return [d.code for d in generate_files(root).diagnostics]


SKLEARN = {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"}


def test_custom_metric_reaches_kserve_standard_mode_through_keda(tmp_path: Path) -> None:
    serving = {
        **SKLEARN,
        "deploymentMode": "standard",
        "autoscaling": {
            "metric": "custom",
            "customMetric": "inflight_requests",
            "target": 2.5,
            "prometheusUrl": "http://prometheus-operated.monitoring.svc:9090",
        },
    }
    objects, _ = _compile(_project(tmp_path, "kserve", serving))
    isvc = objects["InferenceService/iris"]
    predictor = isvc["spec"]["predictor"]
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "keda"
    assert predictor["autoScaling"]["metrics"] == [
        {
            "type": "External",
            "external": {
                "metric": {
                    "backend": "prometheus",
                    "serverAddress": "http://prometheus-operated.monitoring.svc:9090",
                    "query": "sum(inflight_requests"
                    '{namespace="ml-dev", pod=~"iris-predictor-[a-z0-9]+-[a-z0-9]+"})',
                },
                # KServe passes only value to KEDA, whose default AverageValue makes it per replica
                "target": {"type": "Value", "value": "2500m"},
            },
        }
    ]


def test_custom_metric_on_kserve_needs_standard_mode_and_a_prometheus(tmp_path: Path) -> None:
    custom = {"metric": "custom", "customMetric": "inflight_requests", "target": 2}
    assert "MLG332" in _codes(_project(tmp_path / "a", "kserve", {**SKLEARN, "autoscaling": custom}))
    standard = {**SKLEARN, "deploymentMode": "standard", "autoscaling": custom}
    assert "MLG332" in _codes(_project(tmp_path / "b", "kserve", standard))
    # plain Kubernetes scales on it through a metrics adapter, no Prometheus address needed
    assert _codes(_project(tmp_path / "c", "kubernetes", {**SKLEARN, "autoscaling": custom})) == []


def test_users_kserve_annotations_are_written_as_they_are(tmp_path: Path) -> None:
    serving = {
        **SKLEARN,
        "deploymentMode": "standard",
        "autoscaling": {"metric": "cpu", "target": 60},
        "annotations": {
            "serving.kserve.io/deploymentMode": "RawDeployment",
            "serving.kserve.io/autoscalerClass": "keda",
            "serving.kserve.io/enable-prometheus-scraping": "true",
        },
    }
    objects, _ = _compile(_project(tmp_path, "kserve", serving))
    isvc = objects["InferenceService/iris"]
    annotations = isvc["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert annotations["serving.kserve.io/autoscalerClass"] == "keda"
    assert annotations["serving.kserve.io/enable-prometheus-scraping"] == "true"
    # KEDA reads autoScaling.metrics, not scaleMetric
    assert isvc["spec"]["predictor"]["autoScaling"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
        }
    ]


def test_spec_implied_annotations_fill_in_what_the_user_left_out(tmp_path: Path) -> None:
    objects, _ = _compile(_project(tmp_path, "kserve", {**SKLEARN, "deploymentMode": "standard"}))
    isvc = objects["InferenceService/iris"]
    annotations = isvc["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
    assert annotations["serving.kserve.io/autoscalerClass"] == "hpa"
    assert isvc["spec"]["predictor"]["scaleMetric"] == "cpu"


@pytest.mark.parametrize(
    ("target", "artifact", "accepted"),
    [
        ("kserve", "pvc://models/{model}/{version}/", True),
        ("kserve", "oci://registry.acme.test/models/{model}:{version}", True),
        ("kserve", "hf://acme/iris-{version}", True),
        ("kserve", "models:/iris/{version}", False),
        ("kserve", "runs:/{version}/model", False),
        ("kubernetes", "gs://models/{model}/{version}/", True),
        ("kubernetes", "pvc://models/{model}/{version}/", True),
        ("kubernetes", "oci://registry.acme.test/models/{model}:{version}", False),
        ("kubernetes", "models:/iris/{version}", False),
    ],
)
def test_artifact_schemes_are_those_the_target_fetches(
    tmp_path: Path, target: str, artifact: str, accepted: bool
) -> None:
    codes = _codes(_project(tmp_path, target, {"runtime": "sklearn", "artifact": artifact}))
    assert codes == ([] if accepted else ["MLG334"])


def test_a_custom_container_on_kubernetes_fetches_its_own_artifact(tmp_path: Path) -> None:
    serving = {"runtime": "custom", "image": "ghcr.io/acme/server:1.0", "artifact": "models:/iris/{version}"}
    objects, _ = _compile(_project(tmp_path, "kubernetes", serving))
    (container,) = objects["Deployment/iris"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "STORAGE_URI", "value": "models:/iris/1.0.0"} in container["env"]


@pytest.mark.parametrize("runtime", ["triton", "onnx"])
def test_triton_on_kubernetes_is_scraped_on_its_metrics_port(tmp_path: Path, runtime: str) -> None:
    monitoring = {"slos": {"availability": {"objective": 99.5}}}
    serving = {"runtime": runtime, "artifact": "s3://models/{model}/{version}/"}
    objects, texts = _compile(_project(tmp_path, "kubernetes", serving, monitoring))
    (container,) = objects["Deployment/iris"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "metrics", "containerPort": 8002, "protocol": "TCP"} in container["ports"]
    ports = {p["name"]: p for p in objects["Service/iris"]["spec"]["ports"]}
    assert ports["metrics"] == {"name": "metrics", "port": 8002, "targetPort": "metrics", "protocol": "TCP"}
    assert _scraped(objects["ServiceMonitor/iris"]) == [{"port": "metrics"}]  # path: Prometheus' /metrics
    # the project's model dashboard shows Triton's own timings: it serves with Triton
    dashboard = json.dumps(json.loads(texts["deploy/dashboards/models.json"]))
    assert "nv_inference_queue_duration_us" in dashboard and "nv_inference_request_success" in dashboard


def test_other_runtimes_keep_their_metrics_on_the_serving_port(tmp_path: Path) -> None:
    availability = {"slos": {"availability": {"objective": 99}}}
    objects, _ = _compile(_project(tmp_path, "kubernetes", SKLEARN, availability))
    assert [p["name"] for p in objects["Service/iris"]["spec"]["ports"]] == ["http"]
    assert _scraped(objects["ServiceMonitor/iris"]) == [{"port": "http"}]


def test_a_latency_slo_on_triton_needs_a_histogram(tmp_path: Path) -> None:
    latency = {"slos": {"latency": {"objective": 99, "threshold": "250ms"}}}
    triton = {"runtime": "triton", "artifact": "s3://models/{model}/{version}/"}
    assert _codes(_project(tmp_path / "k8s", "kubernetes", triton, latency)) == ["MLG335"]
    standard = {**triton, "deploymentMode": "standard"}
    assert _codes(_project(tmp_path / "raw", "kserve", standard, latency)) == ["MLG335"]
    # Knative's queue-proxy times every request, whatever the runtime
    assert _codes(_project(tmp_path / "serverless", "kserve", triton, latency)) == []
    # a histogram of the user's own (here: an ingress in front of Triton) makes it computable
    with_histogram = {
        **latency,
        "metrics": {"latency": 'nginx_ingress_controller_request_duration_seconds_bucket{ingress="{model}"}'},
    }
    objects, _ = _compile(_project(tmp_path / "own", "kubernetes", triton, with_histogram))
    # the environment's shared SLI rules (one PrometheusRule per group)
    rules = json.dumps([o for key, o in objects.items() if key.startswith("PrometheusRule/mlgitops-slo-")])
    assert "nginx_ingress_controller_request_duration_seconds_bucket" in rules


def _scraped(monitor: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a monitor scrapes (its relabelling is tests/test_monitoring_selectors.py's)."""
    return [{k: v for k, v in e.items() if k != "relabelings"} for e in monitor["spec"]["endpoints"]]
