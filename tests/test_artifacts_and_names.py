"""Issue 11's artifacts and per-environment names, on the accepted side: literal URIs where the
version is fixed, a claim mounted as KServe mounts it, a modelcar on KServe, a model its server
fetches itself, and ``deployments.<env>.name`` followed by everything that names the workload.
The refusals are in tests/cases/invalid/ (artifact-literal-or-absent, artifact-unfetchable,
deployment-name-taken)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import MINIMAL_PROJECT
from mlgitops.targets import base
from test_serving_fidelity import _compile

_DIGEST = "sha256:" + "a" * 64


def _project(root: Path, target: str, serving: dict[str, Any], dev: dict[str, Any], **spec: Any) -> Path:
    project = yaml.safe_load(MINIMAL_PROJECT)
    project["spec"].update(serving=target, **spec)
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(yaml.safe_dump(project), encoding="utf-8")
    model = {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {"name": "iris", "owner": "ds"},
        "spec": {
            "serving": serving,
            "deployments": {"dev": {"version": "1.0.0", **dev}},
            "monitoring": {"slos": {"availability": {"objective": 99.5}}},
        },
    }
    (root / "models" / "iris.yaml").write_text(yaml.safe_dump(model), encoding="utf-8")
    return root


def _pod(objects: dict[str, Any], name: str) -> dict[str, Any]:
    pod: dict[str, Any] = objects[f"Deployment/{name}"]["spec"]["template"]["spec"]
    return pod


def test_a_claim_on_kubernetes_is_mounted_read_only_at_the_model_directory(tmp_path: Path) -> None:
    serving = {"runtime": "sklearn", "artifact": "pvc://models/{model}/{version}"}
    objects, _ = _compile(_project(tmp_path, "kubernetes", serving, {}))
    pod = _pod(objects, "iris")
    assert "initContainers" not in pod  # nothing to copy
    (container,) = pod["containers"]
    assert {"name": "model", "mountPath": "/mnt/models", "subPath": "iris/1.0.0", "readOnly": True} in (
        container["volumeMounts"]
    )
    assert {"name": "model", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}} in pod[
        "volumes"
    ]


def test_a_whole_claim_has_no_sub_path(tmp_path: Path) -> None:
    objects, _ = _compile(
        _project(tmp_path, "kubernetes", {"runtime": "sklearn"}, {"artifact": "pvc://iris"})
    )
    (container,) = _pod(objects, "iris")["containers"]
    assert {"name": "model", "mountPath": "/mnt/models", "readOnly": True} in container["volumeMounts"]


def test_a_literal_modelcar_reaches_kserve_as_written(tmp_path: Path) -> None:
    artifact = f"oci://ghcr.io/acme/iris-model@{_DIGEST}"
    serving = {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"}
    objects, _ = _compile(_project(tmp_path, "kserve", serving, {"artifact": artifact}))
    predictor = objects["InferenceService/iris"]["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == artifact


def test_a_canary_takes_a_literal_artifact(tmp_path: Path) -> None:
    serving = {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"}
    canary = {"version": "1.1.0", "traffic": 10, "artifact": f"oci://ghcr.io/acme/iris@{_DIGEST}"}
    objects, _ = _compile(_project(tmp_path, "kserve", serving, {"canary": canary}))
    # KServe's native split: the InferenceService serves the canary's artifact as its latest revision
    predictor = objects["InferenceService/iris"]["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == canary["artifact"]
    assert predictor["canaryTrafficPercent"] == 10


def test_hugging_face_fetches_the_model_named_in_its_args(tmp_path: Path) -> None:
    serving = {"runtime": "huggingface", "args": ["--model_id=acme/iris-llm"]}
    kserve, _ = _compile(_project(tmp_path / "kserve", "kserve", serving, {}))
    model = kserve["InferenceService/iris"]["spec"]["predictor"]["model"]
    assert "storageUri" not in model and model["args"] == ["--model_id=acme/iris-llm"]
    plain, _ = _compile(_project(tmp_path / "kubernetes", "kubernetes", serving, {}))
    pod = _pod(plain, "iris")
    assert "initContainers" not in pod
    (container,) = pod["containers"]
    assert "--model_id=acme/iris-llm" in container["args"]
    assert not [a for a in container["args"] if a.startswith("--model_dir=")]


def test_a_declared_runtime_naming_the_model_needs_no_artifact(tmp_path: Path) -> None:
    runtime = {
        "name": "vllm",
        "image": f"vllm/vllm-openai@{_DIGEST}",
        "args": ["--model=facebook/opt-125m", "--served-model-name={{.Name}}"],
        "supportedModelFormats": [{"name": "vllm"}],
    }
    root = _project(tmp_path, "kserve", {"runtime": "vllm"}, {}, runtimes=[runtime])
    objects, _ = _compile(root)
    assert "storageUri" not in objects["InferenceService/iris"]["spec"]["predictor"]["model"]


def test_a_deployment_name_renames_the_workload_and_what_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"}
    # Every object with all of its labels, as Argo CD and Flux apply it: the labels a model's
    # objects share are left to its directory's kustomization no more (tests/test_kustomized_labels.py
    # proves that kubectl kustomize builds exactly these labels from the compiled files).
    monkeypatch.setattr(base, "leave_to_kustomization", lambda *_: None)
    monkeypatch.setattr(base, "LeftOut", lambda *_: None)
    objects, texts = _compile(_project(tmp_path / "kubernetes", "kubernetes", serving, {"name": "fleur"}))
    assert {"Deployment/fleur", "Service/fleur", "PodDisruptionBudget/fleur"} <= set(objects)
    assert "Deployment/iris" not in objects
    (container,) = _pod(objects, "fleur")["containers"]
    assert "--model_name=fleur" in container["args"]  # KServe's server names the model as KServe does
    # The SLI rules select a model's series by the label each monitor copies from the model's
    # mlgitops.dev/model label, which a rename leaves alone.
    assert objects["Service/fleur"]["metadata"]["labels"]["mlgitops.dev/model"] == "iris"
    (endpoint,) = objects["ServiceMonitor/fleur"]["spec"]["endpoints"]
    assert endpoint["relabelings"][0]["targetLabel"] == "mlgitops_model"
    # the model keeps its identity: labels and its directory
    assert objects["Deployment/fleur"]["metadata"]["labels"]["app.kubernetes.io/name"] == "iris"
    assert any(path.startswith("deploy/dev/iris/") for path in texts)
    kserve, _ = _compile(_project(tmp_path / "kserve", "kserve", serving, {"name": "fleur"}))
    assert "InferenceService/fleur" in kserve
    assert "PodMonitor/fleur" in kserve
    assert kserve["InferenceService/fleur"]["metadata"]["labels"]["mlgitops.dev/model"] == "iris"


def test_a_routed_deployment_name_names_each_version_and_the_route(tmp_path: Path) -> None:
    serving = {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"}
    traffic = {"router": "gateway-api", "gateway": {"name": "gw", "namespace": "gw"}}
    canary = {"version": "1.1.0", "traffic": 10}
    root = _project(tmp_path, "kserve", serving, {"name": "petal", "canary": canary}, traffic=traffic)
    objects, _ = _compile(root)
    assert {"InferenceService/petal-1-0-0", "InferenceService/petal-1-1-0", "HTTPRoute/petal"} <= set(objects)
    backends = [b["name"] for r in objects["HTTPRoute/petal"]["spec"]["rules"] for b in r["backendRefs"]]
    assert set(backends) == {"petal-1-0-0-predictor", "petal-1-1-0-predictor"}
