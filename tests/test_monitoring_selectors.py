"""The scrape configuration selects exactly what the serving target deploys (a cross-target check).

Every example is compiled for each serving target (KServe serverless, KServe
standard, plain Kubernetes).  For every model in every environment (whose workload is one,
or one per version when a traffic router splits the requests, docs/traffic.md):

* kubernetes: the ServiceMonitor's selector matches the labels of the model's
  Service and of no other Service, its port is a port of that Service, and the
  Service's selector matches the pods of the stable (and canary) Deployment, whose
  container declares that port;
* kserve: the PodMonitor's selector matches the InferenceService's predictor pod
  labels (``spec.predictor.labels``) and no other InferenceService's; serverless pods
  are scraped on Knative queue-proxy's user-metrics port, raw-deployment pods on the
  model server's port from KServe's ``prometheus.kserve.io/port`` annotation;
* the SLO rules read the series those targets produce: the namespace and Service
  (or Knative configuration, or predictor pods) they select are the deployed ones.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import EXAMPLE_IDS, EXAMPLES, compile_clean, edit_yaml, kustomize_build
from conftest import require_tool

SERVING = {
    "kserve-serverless": ("kserve", "serverless"),
    "kserve-standard": ("kserve", "standard"),
    "kubernetes": ("kubernetes", None),
}
QUEUE_PROXY_USER_METRICS = "http-usermetric"  # Knative queue-proxy, containerPort 9091
pytestmark = pytest.mark.external  # kubectl kustomize

Objects = dict[str, dict[str, Any]]  # "kind/namespace/name" → object


def _compile(example: Path, serving: str, mode: str | None) -> Objects:
    with tempfile.TemporaryDirectory(prefix="mlgitops-selectors-") as tmp:
        root = Path(tmp) / example.name
        root.mkdir()
        shutil.copy2(example / "mlgitops.yaml", root / "mlgitops.yaml")
        shutil.copytree(example / "models", root / "models")

        def change(project: Any) -> None:
            project["spec"]["serving"] = serving
            defaults = project["spec"].setdefault("defaults", {}).setdefault("serving", {})
            defaults.pop("deploymentMode", None)
            if mode is not None:
                defaults["deploymentMode"] = mode

        edit_yaml(root / "mlgitops.yaml", change)
        if (serving, mode) != ("kserve", "serverless"):
            for model in sorted((root / "models").glob("*.yaml")):
                edit_yaml(model, _without_knative_scaling)
                if serving == "kubernetes":  # only KServe renders a transformer (MLG338)
                    edit_yaml(model, _without_transformer)
        compile_clean(root)
        # the objects as Argo CD and Flux apply them: each environment's kustomization built, with
        # the labels it and the model directories' kustomizations set
        kubectl = require_tool("kubectl")
        objects: Objects = {}
        for env_dir in sorted(p.parent for p in (root / "deploy").glob("*/kustomization.yaml")):
            for document in kustomize_build(kubectl, env_dir):
                metadata = document["metadata"]
                objects[f"{document['kind']}/{metadata.get('namespace')}/{metadata['name']}"] = document
    return objects


def _without_transformer(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("transformer", None)
        for value in node.values():
            _without_transformer(value)


def _without_knative_scaling(node: Any) -> None:
    """Concurrency, rps and scale-to-zero need Knative: scale on CPU elsewhere."""
    if isinstance(node, dict):
        scaling = node.get("autoscaling")
        if isinstance(scaling, dict):
            if scaling.get("metric") in ("concurrency", "rps"):
                scaling.update(metric="cpu", target=70)
            scaling.pop("scaleToZero", None)
            if scaling.get("minReplicas") == 0:
                scaling["minReplicas"] = 1
        for value in node.values():
            _without_knative_scaling(value)


@pytest.fixture(scope="module", params=[(e, s) for e in EXAMPLE_IDS for s in SERVING], ids="-".join)
def compiled(request: pytest.FixtureRequest) -> tuple[str, Objects]:
    example_id, serving_id = request.param
    serving, mode = SERVING[serving_id]
    return serving_id, _compile(EXAMPLES[EXAMPLE_IDS.index(example_id)], serving, mode)


def of_kind(objects: Objects, kind: str) -> list[dict[str, Any]]:
    return [o for key, o in sorted(objects.items()) if key.startswith(kind + "/")]


def selects(selector: Mapping[str, str], labels: Mapping[str, str] | None) -> bool:
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def check_model_label(endpoint: dict[str, Any], role: str, labels: Mapping[str, str], model: str) -> None:
    """The endpoint's last relabelling copies the model's name, from a label of the scraped
    ``role`` (pod or service) that holds it, into ``mlgitops_model``, which the shared SLI rules
    read (``metricmap.MODEL_LABEL``)."""
    last = endpoint["relabelings"][-1]
    # "replace" is the operator's default action, which mlgitops leaves out
    assert "action" not in last and last["targetLabel"] == "mlgitops_model"
    (source,) = last["sourceLabels"]
    holding = [
        k for k in labels if source == f"__meta_kubernetes_{role}_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)
    ]
    assert holding and labels[holding[0]] == model, f"{model}: {source} does not hold the model's name"
    assert last.get("regex", "(.*)") == "(.*)" and last.get("replacement", "$1") == "$1"


def model_of(o: dict[str, Any]) -> str:
    return str(o["metadata"]["labels"]["mlgitops.dev/model"])


def test_every_deployment_is_scraped(compiled: tuple[str, Objects]) -> None:
    """One monitor per model and environment, over all the workloads of the model there (one,
    or one per version with a traffic router)."""
    serving_id, objects = compiled
    workloads = of_kind(objects, "Service" if serving_id == "kubernetes" else "InferenceService")
    monitors = of_kind(objects, "ServiceMonitor" if serving_id == "kubernetes" else "PodMonitor")
    assert workloads
    key = sorted({(o["metadata"]["namespace"], model_of(o)) for o in workloads})
    assert key == [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in monitors]


def test_monitors_select_exactly_what_the_serving_target_deploys(compiled: tuple[str, Objects]) -> None:
    serving_id, objects = compiled
    if serving_id == "kubernetes":
        check_service_monitors(objects)
    else:
        check_pod_monitors(serving_id, objects)


def check_service_monitors(objects: Objects) -> None:
    services = of_kind(objects, "Service")
    for monitor in of_kind(objects, "ServiceMonitor"):
        meta = monitor["metadata"]
        selector = monitor["spec"]["selector"]["matchLabels"]
        chosen = [
            s
            for s in services
            if s["metadata"]["namespace"] == meta["namespace"] and selects(selector, s["metadata"]["labels"])
        ]
        assert chosen and {model_of(s) for s in chosen} == {meta["name"]}, f"{meta['name']}: {selector}"
        assert len(chosen) == len(
            [
                s
                for s in services
                if model_of(s) == meta["name"] and s["metadata"]["namespace"] == meta["namespace"]
            ]
        )
        for service in chosen:
            check_service(objects, meta, monitor, service)


def check_service(objects: Objects, meta: dict[str, Any], monitor: dict[str, Any], service: Any) -> None:
    own = service["metadata"]["name"]
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports, f"{meta['name']}: no Service port {endpoint['port']!r}"
        assert "path" not in endpoint  # Prometheus' default, /metrics
        target = ports[endpoint["port"]]["targetPort"]
        deployments = [
            d
            for d in of_kind(objects, "Deployment")
            if d["metadata"]["namespace"] == meta["namespace"]
            and selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        names = sorted(d["metadata"]["name"] for d in deployments)
        assert names[0] == own and set(names) <= {own, f"{own}-canary"}
        for deployment in deployments:
            container_ports = [
                p.get("name")
                for c in deployment["spec"]["template"]["spec"]["containers"]
                for p in c["ports"]
            ]
            assert target in container_ports, f"{deployment['metadata']['name']} has no port {target!r}"
        # the SLO series of that Service carry the model's name (the shared rules read it)
        check_model_label(endpoint, "service", service["metadata"]["labels"], meta["name"])


def check_pod_monitors(serving_id: str, objects: Objects) -> None:
    services = of_kind(objects, "InferenceService")
    for monitor in of_kind(objects, "PodMonitor"):
        meta = monitor["metadata"]
        selector = monitor["spec"]["selector"]["matchLabels"]
        chosen = [
            s
            for s in services
            if s["metadata"]["namespace"] == meta["namespace"]
            and selects(selector, s["spec"]["predictor"].get("labels"))
        ]
        assert chosen and {model_of(s) for s in chosen} == {meta["name"]}, f"{meta['name']}: {selector}"
        assert len(chosen) == len(
            [
                s
                for s in services
                if model_of(s) == meta["name"] and s["metadata"]["namespace"] == meta["namespace"]
            ]
        )
        for service in chosen:
            check_inference_service(serving_id, objects, meta, monitor, service)


def check_inference_service(
    serving_id: str, objects: Objects, meta: dict[str, Any], monitor: dict[str, Any], service: Any
) -> None:
    selector = monitor["spec"]["selector"]["matchLabels"]
    transformer = service["spec"].get("transformer")
    if transformer is not None:
        assert not selects(selector, transformer.get("labels")), "the transformer pods are selected too"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    standard = service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert standard == (serving_id == "kserve-standard")
    if standard:
        keep, *rewrites = endpoint["relabelings"]
        assert keep == {
            "action": "keep",
            "sourceLabels": ["__meta_kubernetes_pod_container_name"],
            "regex": "kserve-container",
        }
        sources = {tuple(r["sourceLabels"]) for r in rewrites}
        assert (
            "__meta_kubernetes_pod_annotation_prometheus_kserve_io_port",
            "__meta_kubernetes_pod_ip",
        ) in sources
        assert "port" not in endpoint
    else:
        assert "path" not in endpoint  # Prometheus' default, /metrics
        assert endpoint["port"] == QUEUE_PROXY_USER_METRICS
    check_model_label(endpoint, "pod", service["spec"]["predictor"]["labels"], meta["name"])
