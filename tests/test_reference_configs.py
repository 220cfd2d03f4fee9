"""Real upstream configurations, written as mlgitops specs, compared field by field (issue 11).

Each project under examples/reference/<name>/ is compiled in memory; the generated object of
the upstream file's kind, as applied (``kubectl kustomize`` of its environment, whose
kustomizations set the labels and annotations every object of the environment or of the model
shares; an object outside them as written), is compared with the upstream object (tests/reference-upstream/,
sources and licenses in examples/reference/README.md): every field the upstream object sets
must come out with the same value, except the differences listed per reference with a reason.
Fields we add (hardening, labels, our own annotations) are not differences. A listed
difference that no longer occurs fails the test too, so the lists stay true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import kustomize_build
from conftest import require_tool
from mlgitops.pipeline import generate_files

ROOT = Path(__file__).resolve().parent.parent
REFERENCES_DIR = ROOT / "examples" / "reference"
UPSTREAM_DIR = Path(__file__).resolve().parent / "reference-upstream"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# KServe's older predictor spelling `predictor.<framework>: {...}` is the same as
# `predictor.model: {modelFormat: {name: <framework>}, ...}` (KServe converts it).
_KSERVE_FRAMEWORKS = (
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "lightgbm",
    "huggingface",
)

# Generated names of our own, where upstream names differ for a reason.
NAMING = "mlgitops names the object itself"

_TRITON_CONTAINER = "spec.template.spec.containers[flower]"


@dataclass(frozen=True)
class Reference:
    upstream: str  # file under tests/reference-upstream/
    project: str  # folder under examples/reference/
    output: str  # the generated file holding the object compared
    differences: dict[str, str] = field(default_factory=dict)  # path → why it differs
    # A keyed element (container, port) we name otherwise: its path → our name. The name itself
    # is a difference (listed above with its reason); the rest of the element is still compared.
    renamed: dict[str, str] = field(default_factory=dict)


REFERENCES = [
    Reference(
        "kserve-tensorflow-flowers.yaml",
        "kserve-tensorflow-flowers",
        "deploy/dev/flower-sample/inferenceservice.yaml",
    ),
    Reference(
        "kserve-tensorflow-gpu.yaml",
        "kserve-tensorflow-gpu",
        "deploy/dev/flowers-sample-gpu/inferenceservice.yaml",
    ),
    Reference(
        "kserve-xgboost-iris.yaml",
        "kserve-xgboost-iris",
        "deploy/dev/xgboost-iris/inferenceservice.yaml",
        {
            "spec.predictor.model.runtime": (
                "GAP: serving.runtime can name only built-in runtimes or ones the project declares "
                "(and then renders); a runtime already installed in the cluster (kserve-mlserver) "
                "cannot be named without mlgitops writing it"
            ),
        },
    ),
    Reference(
        "kserve-torchserve-transformer.yaml",
        "kserve-torchserve-transformer",
        "deploy/dev/torchserve-transformer/inferenceservice.yaml",
    ),
    Reference(
        "kserve-triton-torchscript.yaml",
        "kserve-triton-torchscript",
        "deploy/dev/torchscript-cifar/inferenceservice.yaml",
    ),
    Reference(
        "kserve-huggingface-keda.yaml",
        "kserve-huggingface-keda",
        "deploy/dev/huggingface-qwen/inferenceservice.yaml",
        {
            "metadata.annotations.serving.kserve.io/deploymentMode": (
                "we write `Standard`, KServe 0.15's name for `RawDeployment` (the same mode)"
            ),
        },
    ),
    Reference(
        "triton-nfs-deployment.yaml",
        "triton-nfs-custom-metrics",
        "deploy/dev/flower/deployment.yaml",
        {
            "spec.replicas": (
                "the HorizontalPodAutoscaler owns the replica count (upstream's 3 is the count "
                "before its HPA, flower-hpa.yml, takes over); a Deployment beside an HPA leaves "
                "`replicas` out so that a GitOps sync does not reset it"
            ),
            "spec.selector.matchLabels.app": (
                "the selector is mlgitops' own (instance, name, track), which the canary and the "
                "PodDisruptionBudget rely on; `app: flower` is still on the Deployment and its pods "
                "(metadata.labels)"
            ),
            _TRITON_CONTAINER: (
                "GAP: the serving container is always named `model`; its fields are compared with "
                "upstream's `flower`"
            ),
            _TRITON_CONTAINER + ".ports[http-triton]": (
                "GAP: the serving port is always named `http` (the Service, probes and "
                "ServiceMonitor refer to it by that name); its containerPort 8000 is compared"
            ),
            "spec.template.spec.volumes[models].nfs.readOnly": (
                "`readOnly: false` is Kubernetes' default and is left out; the spec's "
                "`volumes[].readOnly: false` mounts it writable as upstream does"
            ),
        },
        renamed={_TRITON_CONTAINER: "model", _TRITON_CONTAINER + ".ports[http-triton]": "http"},
    ),
    Reference(
        "triton-nfs-hpa.yaml",
        "triton-nfs-custom-metrics",
        "deploy/dev/flower/hpa.yaml",
        {
            "apiVersion": (
                "autoscaling/v2beta1 was removed in Kubernetes 1.25; we write autoscaling/v2 (its "
                "Pods metric is compared in the v2 spelling the API server converts it to)"
            ),
            "metadata.name": NAMING + " (the model's name, as its Deployment)",
            "spec.scaleTargetRef.apiVersion": (
                "upstream's `apps/v1beta1` (removed in Kubernetes 1.16) names the same Deployment, "
                "which is `apps/v1` in both files"
            ),
        },
    ),
    Reference(
        "kserve-sklearn-runtime.yaml",
        "kserve-sklearn-runtime",
        "deploy/dev/clusterservingruntime-kserve-sklearnserver.yaml",
        {},
    ),
    Reference(
        "training-pytorchjob-simple.yaml",
        "training-pytorchjob-simple",
        "deploy/dev/pytorch-simple/training-job.yaml",
        {
            "metadata.name": "the CI creates one PyTorchJob per run (`generateName`)",
            **{
                f"spec.pytorchReplicaSpecs.{role}.template.spec.containers[pytorch].imagePullPolicy": (
                    "GAP: training has no `imagePullPolicy` (Kubernetes' default applies: "
                    "IfNotPresent for a tag other than latest)"
                )
                for role in ("Master", "Worker")
            },
        },
    ),
    Reference(
        "training-pytorchjob-nccl.yaml",
        "training-pytorchjob-nccl",
        "deploy/dev/pytorch-dist-mnist-nccl/training-job.yaml",
        {
            "metadata.name": "the CI creates one PyTorchJob per run (`generateName`)",
            **{
                f"spec.pytorchReplicaSpecs.{role}.template.{where}": reason
                for role in ("Master", "Worker")
                for where, reason in (
                    (
                        "metadata.annotations",
                        'GAP: training has no pod annotations (upstream: `sidecar.istio.io/inject: "false"`)',
                    ),
                    (
                        "spec.containers[pytorch].image",
                        "upstream's `gcr.io/<your_project>/…` is a placeholder, not an image "
                        "reference; the spec writes `your-project`",
                    ),
                )
            },
        },
    ),
    Reference(
        "flux-staging-apps.yaml",
        "flux-multi-environment",
        "apps/gitops/flux/staging.yaml",
        {
            "metadata.name": NAMING + " (`<project>-<environment>`)",
            "spec.sourceRef.name": (
                "mlgitops writes its own GitRepository, named after the project; upstream reuses "
                "the one `flux bootstrap` created"
            ),
        },
    ),
    Reference(
        "flux-production-apps.yaml",
        "flux-multi-environment",
        "apps/gitops/flux/production.yaml",
        {
            "apiVersion": "the upstream file at that commit still used v1beta2; we write v1 (Flux 2.0+)",
            "metadata.name": NAMING + " (`<project>-<environment>`)",
            "spec.sourceRef.name": (
                "mlgitops writes its own GitRepository, named after the project; upstream reuses "
                "the one `flux bootstrap` created"
            ),
        },
    ),
    Reference(
        "argocd-applicationset-list.yaml",
        "argocd-applicationset-list",
        "applicationset/examples/list-generator/guestbook/gitops/argocd/applicationset.yaml",
        {
            "applications[1].spec.destination.namespace": (
                "MLG328 refuses two environments in one cluster and namespace; upstream deploys "
                "both of its demo environments to `guestbook` on the same cluster"
            ),
        },
    ),
    Reference(
        "argocd-kustomize-guestbook.yaml",
        "argocd-app-of-apps",
        "deploy/gitops/argocd/guestbook.yaml",
        {
            "spec.source.path": (
                "GAP: an environment is synced from `<output.path>/<environment>`, so a path without "
                "an environment directory (upstream's `kustomize-guestbook`) cannot be written"
            ),
        },
    ),
]


def _hpa_v2_metric(metric: dict[str, Any]) -> dict[str, Any]:
    """An autoscaling/v2beta1 Pods metric in the autoscaling/v2 form the API server converts it to."""
    pods = metric.get("pods")
    if metric.get("type") != "Pods" or not isinstance(pods, dict) or "metricName" not in pods:
        return metric
    return {
        **metric,
        "pods": {
            "metric": {"name": pods["metricName"]},
            "target": {"type": "AverageValue", "averageValue": pods["targetAverageValue"]},
        },
    }


def normalised(obj: dict[str, Any]) -> dict[str, Any]:
    """KServe's framework shorthand rewritten into the `predictor.model` form it stands for; an
    autoscaling/v2beta1 HPA's Pods metrics in their autoscaling/v2 spelling (its apiVersion is
    left as it is, so a reference lists that difference)."""
    if obj.get("kind") == "HorizontalPodAutoscaler" and obj.get("apiVersion") == "autoscaling/v2beta1":
        obj["spec"]["metrics"] = [_hpa_v2_metric(m) for m in obj["spec"].get("metrics", [])]
    predictor = obj.get("spec", {}).get("predictor") if obj.get("kind") == "InferenceService" else None
    if isinstance(predictor, dict):
        for framework in _KSERVE_FRAMEWORKS:
            if framework in predictor:
                body = predictor.pop(framework)
                predictor["model"] = {"modelFormat": {"name": framework}, **body}
    return obj


def _expand(template: Any, params: dict[str, Any]) -> Any:
    """An ApplicationSet template with `{{.key}}` filled in from one generator element."""
    if isinstance(template, dict):
        return {k: _expand(v, params) for k, v in template.items()}
    if isinstance(template, list):
        return [_expand(v, params) for v in template]
    if isinstance(template, str):
        return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: str(params[m[1]]), template)
    return template


def generated_applications(appset: dict[str, Any]) -> dict[str, Any]:
    """An ApplicationSet compared by what it does: the Applications its list generator makes
    (the generator's parameter names are each side's own business)."""
    spec = appset["spec"]
    elements = spec["generators"][0]["list"]["elements"]
    rest = {k: v for k, v in spec.items() if k not in ("generators", "template")}
    return {
        **{k: v for k, v in appset.items() if k != "spec"},
        "spec": rest,
        "applications": [_expand(spec["template"], element) for element in elements],
    }


def _same_scalar(upstream: Any, ours: Any) -> bool:
    if isinstance(upstream, bool) or isinstance(ours, bool):
        return upstream is ours
    return str(upstream) == str(ours)  # quantities and ports: 1 == "1"


def differences(
    upstream: Any, ours: Any, path: str = "", renamed: dict[str, str] | None = None
) -> Iterator[str]:
    """Paths where a field upstream sets is missing from ours or has another value; an element
    in `renamed` is reported once for its name and compared with ours of the new name."""
    renamed = renamed or {}
    if isinstance(upstream, dict):
        if not isinstance(ours, dict):
            yield path
            return
        for key, value in upstream.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in ours:
                yield where
            else:
                yield from differences(value, ours[key], where, renamed)
    elif isinstance(upstream, list):
        if not isinstance(ours, list):
            yield path
        elif upstream and all(isinstance(e, dict) and "name" in e for e in upstream):
            # keyed lists (containers, env, ports, dependsOn): matched by name
            by_name = {e.get("name"): e for e in ours if isinstance(e, dict)}
            for element in upstream:
                where = f"{path}[{element['name']}]"
                if where in renamed and renamed[where] in by_name:
                    yield where
                    rest = {k: v for k, v in element.items() if k != "name"}
                    yield from differences(rest, by_name[renamed[where]], where, renamed)
                elif element["name"] not in by_name:
                    yield where
                else:
                    yield from differences(element, by_name[element["name"]], where, renamed)
        elif len(upstream) != len(ours):
            yield path
        else:
            for index, (a, b) in enumerate(zip(upstream, ours, strict=True)):
                yield from differences(a, b, f"{path}[{index}]", renamed)
    elif not _same_scalar(upstream, ours):
        yield path


def _load(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=_LOADER)
    assert isinstance(data, dict)
    return data


def _compiled(project: str) -> dict[str, str]:
    result = generate_files(REFERENCES_DIR / project)
    assert result.ok, [str(d) for d in result.diagnostics]
    return {f.path: f.content for f in result.files}


def _resources(directory: Path) -> Iterator[Path]:
    """The files a kustomization lists, those of the kustomizations it lists included."""
    kustomization = _load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    for entry in kustomization.get("resources", ()):
        path = directory / entry
        yield from _resources(path) if path.is_dir() else (path,)


def _applied(files: dict[str, str], output: str, tmp_path: Path) -> dict[str, Any]:
    """The object of ``output`` as Argo CD and Flux apply it: built by ``kubectl kustomize`` of its
    environment when the environment's kustomization lists it, as written otherwise (Argo CD's
    objects, the training jobs CI submits)."""
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content, encoding="utf-8")
    written = _load(files[output])
    env_dir = tmp_path / "/".join(output.split("/")[:2])
    if not (env_dir / "kustomization.yaml").is_file() or tmp_path / output not in set(_resources(env_dir)):
        return written
    kubectl = require_tool("kubectl")
    (built,) = [
        document
        for document in kustomize_build(kubectl, env_dir)
        if document["kind"] == written["kind"] and document["metadata"]["name"] == written["metadata"]["name"]
    ]
    return dict(built)


@pytest.mark.external  # kubectl kustomize
@pytest.mark.parametrize("ref", REFERENCES, ids=[r.upstream.removesuffix(".yaml") for r in REFERENCES])
def test_compiled_object_matches_the_upstream_file(ref: Reference, tmp_path: Path) -> None:
    upstream = normalised(_load((UPSTREAM_DIR / ref.upstream).read_text(encoding="utf-8")))
    files = _compiled(ref.project)
    assert ref.output in files, sorted(files)
    ours = _applied(files, ref.output, tmp_path)
    assert ours["kind"] == upstream["kind"]
    if upstream["kind"] == "ApplicationSet":
        upstream, ours = generated_applications(upstream), generated_applications(ours)
    found = sorted(differences(upstream, ours, renamed=ref.renamed))
    unexplained = [p for p in found if p not in ref.differences]
    assert unexplained == [], f"fields upstream sets that we do not reproduce: {unexplained}"
    stale = sorted(set(ref.differences) - set(found))
    assert stale == [], f"listed differences that no longer occur: {stale}"


def test_there_are_at_least_twelve_references_each_project_used() -> None:
    assert len(REFERENCES) >= 12
    projects = {p.name for p in REFERENCES_DIR.iterdir() if p.is_dir()}
    assert projects == {r.project for r in REFERENCES}
    assert {p.name for p in UPSTREAM_DIR.iterdir()} == {r.upstream for r in REFERENCES}


def test_the_readme_cites_every_upstream_file() -> None:
    readme = (REFERENCES_DIR / "README.md").read_text(encoding="utf-8")
    for ref in REFERENCES:
        header = (UPSTREAM_DIR / ref.upstream).read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# Upstream: (\S+), (\S+) at commit ([0-9a-f]{40})", header)
        assert match, ref.upstream
        repo, path, commit = match.groups()
        assert f"{repo}" in readme and f"{path}" in readme and commit in readme, ref.upstream


def test_the_comparison_catches_a_changed_value() -> None:
    """The comparison is not vacuous: a value, a missing key and a missing keyed element differ."""
    upstream = {"spec": {"a": "1", "env": [{"name": "X", "value": "1"}], "args": ["--x"]}}
    assert (
        list(differences(upstream, {"spec": {"a": 1, "env": [{"name": "X", "value": "1"}], "args": ["--x"]}}))
        == []
    )
    ours = {"spec": {"a": "2", "env": [{"name": "Y", "value": "1"}], "args": ["--x", "--y"]}}
    assert sorted(differences(upstream, ours)) == ["spec.a", "spec.args", "spec.env[X]"]
    # a renamed element is one difference for its name, and its other fields are still compared
    renamed = {"spec.env[X]": "Y"}
    assert sorted(differences(upstream, ours, renamed=renamed)) == ["spec.a", "spec.args", "spec.env[X]"]
    ours["spec"]["env"][0]["value"] = "2"
    assert "spec.env[X].value" in differences(upstream, ours, renamed=renamed)
