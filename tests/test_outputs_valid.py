"""Every compiled output is something its consumer accepts.

For each example (and an Argo CD ApplicationSet variant and a KServe standard-mode
variant), compiled into a temporary copy:

* every built-in Kubernetes object validates in strict mode (unknown fields are
  errors) against the Kubernetes 1.30 schemas of ``kubernetes-validate``;
* every custom resource validates against its JSON schema in ``tests/target-schemas``
  (vendored from ``../shared/target-schemas``; a missing schema fails the test);
* ``kubectl kustomize deploy/<env>`` builds every environment, puts every namespaced
  object in the environment's namespace and includes every manifest of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from jsonschema.validators import validator_for

import pod_security
from compile_helpers import (
    ROOT,
    TARGET_SCHEMAS,
    assert_not_in_git,
    copy_project,
    edit_yaml,
    environments,
    example,
    kustomize_build,
    yaml_documents,
)
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = pytest.mark.external

KUBERNETES_VERSION = "1.30"
SHARED_SCHEMAS = ROOT.parent / "shared" / "target-schemas"
# kustomize's own configuration file, checked by `kubectl kustomize` below; never sent to a cluster.
KUSTOMIZE_CONFIG = "kustomize.config.k8s.io"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def _application_set(data: Any) -> None:
    data["spec"].setdefault("argocd", {})["applicationSet"] = True


def _standard_mode(data: Any) -> None:
    data["spec"]["defaults"]["serving"]["deploymentMode"] = "standard"


def _application_set_and_standard(data: Any) -> None:
    _application_set(data)
    _standard_mode(data)


def _nulls_on_kserve(data: Any) -> None:
    """Explicit nulls leave resources, replica bounds, metric, target and protocol to KServe."""
    data["spec"]["defaults"]["serving"] = {
        "resources": None,
        "protocol": None,
        "autoscaling": {"minReplicas": None, "maxReplicas": None, "metric": None, "target": None},
    }


def _nulls_on_kubernetes(data: Any) -> None:
    """Plain Kubernetes: requests left to the platform, an HPA without minReplicas or metrics."""
    data["spec"]["serving"] = "kubernetes"
    data["spec"]["defaults"]["serving"] = {
        "resources": {"cpu": None, "limits": {"memory": None}},
        "autoscaling": {"minReplicas": None, "metric": None},
    }


def _kubernetes(data: Any) -> None:
    data["spec"]["serving"] = "kubernetes"


def _no_autoscaling_in_prod(data: Any) -> None:
    """`autoscaling: null` and `resources: null` in the model's prod override."""
    data["spec"]["deployments"]["prod"].update({"autoscaling": None, "resources": None})


def _relaxed(data: Any) -> None:
    """Every securityContext relaxation mlgitops offers: still Pod Security "restricted", with the
    writable paths mounted."""
    data["spec"]["defaults"]["serving"]["securityContext"] = {
        "runAsUser": None,
        "runAsGroup": 0,
        "fsGroup": 2000,
        "readOnlyRootFilesystem": False,
        "writablePaths": ["/home/app/.cache", "/var/cache/models"],
    }


def _relaxed_training(data: Any) -> None:
    """Training in the cluster, relaxed."""
    data["spec"]["training"]["runner"] = "kubernetes"
    data["spec"]["training"]["securityContext"] = {"runAsUser": 1001, "writablePaths": ["/scratch"]}


def _relaxed_kubernetes(data: Any) -> None:
    _kubernetes(data)
    _relaxed(data)


def _standard_gateway(data: Any) -> None:
    _standard_mode(data)
    data["spec"]["traffic"] = {"router": "gateway-api", "gateway": {"name": "public", "namespace": "gw"}}


def _kubernetes_istio(data: Any) -> None:
    _kubernetes(data)
    data["spec"]["traffic"] = {"router": "istio", "gateway": {"name": "public", "namespace": "gw"}}


def _canary_in_prod(traffic: int) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        prod = data["spec"]["deployments"]["prod"]
        prod["canary"] = {"version": "1.3.0", "traffic": traffic, "image": "ghcr.io/acme/sklearn:1.5.2"}
        prod["canary"]["resources"] = {"cpu": "1", "memory": "2Gi"}
        # shadow traffic to a version with a workload of its own, and a public entry point
        prod["mirror"] = {"version": "1.1.0", "percent": 20}
        prod["expose"] = {"hostname": "iris.ml.acme.com", "path": "/iris"}

    return edit


def _argocd_knobs(data: Any) -> None:
    data["spec"].setdefault("argocd", {}).update(
        {"applicationName": "ml-{environment}-{project}", "syncWaves": True}
    )
    data["spec"]["environments"][-1]["gitops"] = {"revision": "release", "syncPolicy": "manual"}


def _application_set_knobs(data: Any) -> None:
    data["spec"].setdefault("argocd", {}).update(
        {"applicationSet": True, "applicationName": "ml-{environment}-{project}"}
    )
    data["spec"]["environments"][-1]["gitops"] = {"revision": "release", "syncPolicy": "manual"}


def _flux_knobs(data: Any) -> None:
    data["spec"].setdefault("flux", {}).update(
        {"retryInterval": "1m", "timeout": None, "prune": False, "dependsOn": ["kserve"]}
    )
    data["spec"]["environments"][-1]["gitops"] = {"revision": "release", "dependsOn": ["prod-secrets"]}


def _experiment_in_prod(data: Any) -> None:
    """A/B between two models behind one entry point, one variant also chosen by a header."""
    prod = data["spec"]["deployments"]["prod"]
    del prod["canary"]
    prod["experiment"] = {
        "variants": [
            {"model": "fraud-detector", "weight": 70},
            {"model": "churn-model", "weight": 30, "match": {"header": {"name": "x-variant", "value": "b"}}},
        ],
        "default": "fraud-detector",
    }
    prod["expose"] = {"hostname": "fraud.ml.acme.com", "path": "/score"}


def _istio(data: Any) -> None:
    data["spec"]["traffic"] = {"router": "istio"}


_RUNTIMES = [
    {
        "name": "vllm-runtime",
        "image": "vllm/vllm-openai@sha256:" + "0" * 64,
        "args": ["--port=8080", "--model=/mnt/models", "--served-model-name={{.Name}}"],
        "protocolVersions": ["v2", "grpc-v2"],
        "supportedModelFormats": [{"name": "vllm", "version": "1", "autoSelect": True, "priority": 1}],
        "annotations": {"prometheus.kserve.io/port": "8080"},
        "resources": {"limits": {"nvidia.com/gpu": "1"}},
    },
    {
        "name": "triton-shared",
        "kind": "ClusterServingRuntime",
        "image": "nvcr.io/nvidia/tritonserver:24.08-py3",
        "args": ["tritonserver", "--model-store=/mnt/models"],
        "supportedModelFormats": [{"name": "onnx"}],
    },
]


def _runtimes_standard(data: Any) -> None:
    _standard_mode(data)
    data["spec"]["runtimes"] = _RUNTIMES


def _runtimes_kubernetes(data: Any) -> None:
    _kubernetes(data)
    data["spec"]["runtimes"] = [
        {"name": "vllm-runtime", "image": _RUNTIMES[0]["image"], "args": _RUNTIMES[0]["args"]}
    ]


def _served_by_declared_runtime(data: Any) -> None:
    data["spec"]["serving"]["runtime"] = "vllm-runtime"


def _keda_prometheus(data: Any) -> None:
    """A declared runtime, scaled by KEDA on a Prometheus query, and a transformer scaling on CPU."""
    _served_by_declared_runtime(data)
    data["spec"]["serving"]["autoscaling"] = {
        "minReplicas": 1,
        "maxReplicas": 4,
        "metric": "prometheus",
        "query": 'sum(vllm:num_requests_running{namespace="ml-prod"})',
        "serverAddress": "http://prometheus-operated.monitoring.svc:9090",
        "authenticationRef": "prometheus-auth",
        "target": 8,
    }
    data["spec"]["serving"]["transformer"] = {
        "image": "ghcr.io/acme/redact:1.0.0",
        "autoscaling": {"minReplicas": 1, "maxReplicas": 3, "metric": "cpu", "target": 70},
    }


def _artifacts_kubernetes(data: Any) -> None:
    """A literal pvc:// artifact (a read-only claim at the model directory), a renamed workload,
    and a Hugging Face model fetched by its server (no artifact, no storage initializer)."""
    deployments = data["spec"]["deployments"]
    deployments["dev"]["artifact"] = "pvc://models/iris/1.3.0"
    deployments["staging"]["name"] = "iris"
    deployments["prod"].update(
        artifact=None, runtime="huggingface", args=["--model_id=acme/iris", "--backend=huggingface"]
    )


def _artifacts_kserve(data: Any) -> None:
    """A modelcar by digest (oci://) in prod, a claim in staging, Hugging Face fetching its model
    in dev, renamed there."""
    deployments = data["spec"]["deployments"]
    deployments["prod"]["artifact"] = "oci://ghcr.io/acme/iris-model@sha256:" + "1" * 64
    deployments["staging"]["artifact"] = "pvc://models/iris/{version}"
    deployments["dev"].update(
        name="iris", artifact=None, runtime="huggingface", args=["--model_id=acme/iris"]
    )


def _renamed_variant(data: Any) -> None:
    data["spec"]["deployments"]["prod"]["name"] = "churn"


Edit = Callable[[Any], None]


def _distributed(engine: str) -> Edit:
    """support-llm trains on three machines, two GPUs each; relaxed (a fixed UID and a writable
    cache), to see the relaxations reach every pod of the engine's object."""

    def edit(data: Any) -> None:
        training = data["spec"]["training"]
        training["distributed"] = {"engine": engine, "workers": 3, "gpusPerWorker": 2}
        training["resources"].pop("gpu")
        training["securityContext"] = {"runAsUser": 1001, "writablePaths": ["/home/app/.cache"]}

    return edit


# variant id → (example, edit of its mlgitops.yaml (or of each file named), what the variant must contain)
VARIANTS: dict[str, tuple[str, Edit | dict[str, Edit] | None, str | None]] = {
    "quickstart": ("quickstart", None, "Application"),
    "platform": ("platform", None, "Application"),
    "gitlab-flux-k8s": ("gitlab-flux-k8s", None, "Kustomization"),
    # named clusters (destination.name) in an ApplicationSet
    "platform-applicationset": ("platform", _application_set, "ApplicationSet"),
    # API-server destinations in an ApplicationSet, and KServe standard (raw Deployment) mode
    "quickstart-applicationset-standard": ("quickstart", _application_set_and_standard, "ApplicationSet"),
    "quickstart-standard": ("quickstart", _standard_mode, "InferenceService"),
    # explicit nulls: the fields are omitted and what is left is still valid (tests/test_nulls.py)
    "quickstart-nulls": ("quickstart", _nulls_on_kserve, "InferenceService"),
    "quickstart-nulls-kubernetes": ("quickstart", _nulls_on_kubernetes, "Application"),
    "platform-relaxed": ("platform", _relaxed, "InferenceService"),
    "gitlab-flux-k8s-relaxed": (
        "gitlab-flux-k8s",
        {"mlgitops.yaml": _relaxed, "models/product-ranker.yaml": _relaxed_training},
        "Kustomization",
    ),
    "quickstart-relaxed-kubernetes": ("quickstart", _relaxed_kubernetes, "Application"),
    "quickstart-no-autoscaling-kubernetes": (
        "quickstart",
        {"mlgitops.yaml": _kubernetes, "models/iris-classifier.yaml": _no_autoscaling_in_prod},
        "Application",
    ),
    # docs/traffic.md: one workload per version behind a weighted route
    "quickstart-standard-gateway-canary": (
        "quickstart",
        {"mlgitops.yaml": _standard_gateway, "models/iris-classifier.yaml": _canary_in_prod(10)},
        "HTTPRoute",
    ),
    # issue 11's GitOps knobs: per-environment revision and manual sync, names, waves, Flux timing
    "platform-argocd-knobs": ("platform", _argocd_knobs, "Application"),
    "quickstart-applicationset-knobs": ("quickstart", _application_set_knobs, "ApplicationSet"),
    "gitlab-flux-k8s-knobs": ("gitlab-flux-k8s", _flux_knobs, "Kustomization"),
    # spec.runtimes: a ServingRuntime per environment, one ClusterServingRuntime; KEDA on a query
    "quickstart-runtimes-keda": (
        "quickstart",
        {"mlgitops.yaml": _runtimes_standard, "models/iris-classifier.yaml": _keda_prometheus},
        "ClusterServingRuntime",
    ),
    "quickstart-runtimes-kubernetes": (
        "quickstart",
        {"mlgitops.yaml": _runtimes_kubernetes, "models/iris-classifier.yaml": _served_by_declared_runtime},
        "Application",
    ),
    "quickstart-kubernetes-istio-canary": (
        "quickstart",
        {"mlgitops.yaml": _kubernetes_istio, "models/iris-classifier.yaml": _canary_in_prod(0)},
        "VirtualService",
    ),
    # docs/traffic.md: A/B between two models, and a header match
    "platform-experiment": (
        "platform",
        {"models/fraud-detector.yaml": _experiment_in_prod},
        "HTTPRoute",
    ),
    # issue 11: literal, pvc:// and oci:// artifacts, none (the server fetches it), renamed workloads
    "quickstart-artifacts-kubernetes": (
        "quickstart",
        {"mlgitops.yaml": _kubernetes, "models/iris-classifier.yaml": _artifacts_kubernetes},
        "Application",
    ),
    "quickstart-artifacts-kserve": (
        "quickstart",
        {"models/iris-classifier.yaml": _artifacts_kserve},
        "InferenceService",
    ),
    "platform-experiment-renamed": (
        "platform",
        {"models/fraud-detector.yaml": _experiment_in_prod, "models/churn-model.yaml": _renamed_variant},
        "HTTPRoute",
    ),
    "platform-istio-experiment": (
        "platform",
        {"mlgitops.yaml": _istio, "models/fraud-detector.yaml": _experiment_in_prod},
        "VirtualService",
    ),
    # training.distributed: the CI pipeline's training-job.yaml is the engine's own kind
    "platform-trainjob": ("platform", {"models/support-llm.yaml": _distributed("pytorch")}, "TrainJob"),
    "platform-pytorchjob": (
        "platform",
        {"models/support-llm.yaml": _distributed("pytorchjob")},
        "PyTorchJob",
    ),
    "platform-rayjob": ("platform", {"models/support-llm.yaml": _distributed("ray")}, "RayJob"),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """variant id → root of a compiled temporary copy."""
    out: dict[str, Path] = {}
    for variant, (name, change, _) in VARIANTS.items():
        root = copy_project(example(name), tmp_path_factory.mktemp("outputs") / variant)
        assert_not_in_git(root)
        edits = change if isinstance(change, dict) else {"mlgitops.yaml": change} if change else {}
        for relative, edit in edits.items():
            edit_yaml(root / relative, edit)
        result = compile_project(root, use_cache=False)
        shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
        assert result.ok, f"{variant} does not compile:\n{shown}"
        out[variant] = root
    return out


def is_builtin(api_version: str) -> bool:
    """Core (v1) and named built-in groups (apps/v1, autoscaling/v2, policy/v1, …) have no dot."""
    return "/" not in api_version or "." not in api_version.split("/", 1)[0]


def schema_file(api_version: str, kind: str) -> Path:
    group, version = api_version.split("/", 1)
    return TARGET_SCHEMAS / group / f"{kind.lower()}_{version}.json"


@cache
def schema_validator(path: Path) -> jsonschema.protocols.Validator:
    """A validator for one vendored schema (built once; the schemas themselves are upstream's)."""
    schema = json.loads(path.read_bytes())
    return validator_for(schema)(schema)


def schema_errors(document: dict[str, Any]) -> list[str]:
    path = schema_file(document["apiVersion"], document["kind"])
    if not path.is_file():
        return [f"no schema for {document['apiVersion']} {document['kind']} (looked for {path})"]
    errors = sorted(schema_validator(path).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def kubernetes_errors(document: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'/'.join(map(str, exc.absolute_path)) or '<root>'}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [exc.message]
    return []


def _where(path: str, document: Any) -> str:
    return f"{path} ({document.get('kind')} {document.get('metadata', {}).get('name')})"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_builtin_kubernetes_objects_validate_strictly(compiled: dict[str, Path], variant: str) -> None:
    problems: list[str] = []
    checked = 0
    for path, document in yaml_documents(compiled[variant]):
        if is_builtin(document["apiVersion"]):
            checked += 1
            problems += [f"{_where(path, document)}: {e}" for e in kubernetes_errors(document)]
    assert checked, "no built-in Kubernetes object was generated (at least a Namespace per environment)"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_custom_resources_match_their_schemas(compiled: dict[str, Path], variant: str) -> None:
    problems: list[str] = []
    kinds: set[str] = set()
    for path, document in yaml_documents(compiled[variant]):
        api_version = document["apiVersion"]
        if is_builtin(api_version) or api_version.startswith(KUSTOMIZE_CONFIG + "/"):
            continue
        kinds.add(document["kind"])
        problems += [f"{_where(path, document)}: {e}" for e in schema_errors(document)]
    assert not problems, "\n".join(problems)
    expected = VARIANTS[variant][2]
    assert expected in kinds, f"{variant} generated no {expected} (custom resources: {sorted(kinds)})"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_kustomize_builds_every_environment(compiled: dict[str, Path], variant: str) -> None:
    kubectl = require_tool("kubectl")
    root = compiled[variant]
    for env, namespace in environments(root):
        directory = root / "deploy" / env
        built = kustomize_build(kubectl, directory)
        for document in built:
            metadata = document["metadata"]
            if document["kind"] in CLUSTER_SCOPED:
                assert "namespace" not in metadata, f"cluster-scoped {document['kind']} has a namespace"
            else:
                assert metadata.get("namespace") == namespace, (
                    f"deploy/{env}: {document['kind']} {metadata['name']} is in namespace "
                    f"{metadata.get('namespace')!r}, not {namespace!r}"
                )
        namespaces = [d for d in built if d["kind"] == "Namespace"]
        assert [n["metadata"]["name"] for n in namespaces] == [namespace]
        # every manifest of the environment is listed in its kustomization, and nothing else
        # (but the on-demand training Job, which CI creates and GitOps must never apply)
        on_disk = sorted(
            (d["kind"], d["metadata"]["name"])
            for path, d in yaml_documents(root, f"deploy/{env}")
            if d["kind"] != "Kustomization" and not path.endswith("/training-job.yaml")
        )
        assert sorted((d["kind"], d["metadata"]["name"]) for d in built) == on_disk


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_workload_is_pod_security_restricted(compiled: dict[str, Path], variant: str) -> None:
    """No securityContext relaxation mlgitops offers leaves the "restricted" profile, so every
    pod template of every variant (the relaxed ones included) must pass it."""
    problems: list[str] = []
    workloads = 0
    for path, document in yaml_documents(compiled[variant]):
        if pod_security.is_workload(document):
            workloads += 1
            problems += [f"{_where(path, document)}: {v}" for v in pod_security.violations(document)]
    assert workloads, f"{variant} generated no workload"
    assert not problems, "\n".join(problems)


def test_the_relaxations_reach_the_pods(compiled: dict[str, Path]) -> None:
    # the platform example routes its traffic: one InferenceService per version
    (kserve,) = (compiled["platform-relaxed"] / "deploy/prod/support-llm").glob("inferenceservice*.yaml")
    predictor = yaml.safe_load(kserve.read_text())["spec"]["predictor"]
    assert predictor["securityContext"] == {
        "runAsNonRoot": True,
        "runAsGroup": 0,
        "fsGroup": 2000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert predictor["model"]["securityContext"]["readOnlyRootFilesystem"] is False
    assert [m["mountPath"] for m in predictor["model"]["volumeMounts"]] == [
        "/tmp",
        "/home/app/.cache",
        "/var/cache/models",
    ]
    assert {v["name"] for v in predictor["volumes"]} == {"tmp", "writable-0", "writable-1"}
    plain = compiled["quickstart-relaxed-kubernetes"] / "deploy/prod/iris-classifier/deployment.yaml"
    pod = yaml.safe_load(plain.read_text())["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"] and pod["securityContext"]["fsGroup"] == 2000
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "writable-1", "mountPath": "/var/cache/models"} in mounts
    training = compiled["gitlab-flux-k8s-relaxed"] / "deploy/staging/product-ranker/training-job.yaml"
    job_pod = yaml.safe_load(training.read_text())["spec"]["template"]["spec"]
    assert job_pod["securityContext"]["runAsUser"] == 1001
    assert {"name": "writable-0", "mountPath": "/scratch"} in job_pod["containers"][0]["volumeMounts"]


def test_the_variants_really_differ(compiled: dict[str, Path]) -> None:
    """The edits took effect: an ApplicationSet replaces the Applications, standard mode is set."""
    app_set = compiled["platform-applicationset"] / "deploy/gitops/argocd"
    assert sorted(p.name for p in app_set.iterdir()) == ["applicationset.yaml"]
    document = yaml.safe_load((app_set / "applicationset.yaml").read_text(encoding="utf-8"))
    elements = document["spec"]["generators"][0]["list"]["elements"]
    assert [e["cluster"] for e in elements] == ["nonprod", "nonprod", "prod-eu-west-1"]
    assert document["spec"]["template"]["spec"]["destination"]["name"] == "{{.cluster}}"
    standard = yaml.safe_load(
        (compiled["quickstart-standard"] / "deploy/prod/iris-classifier/inferenceservice.yaml").read_text()
    )
    assert standard["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert standard["spec"]["predictor"]["scaleMetric"] == "cpu"


def test_the_null_variants_leave_the_fields_out(compiled: dict[str, Path]) -> None:
    """The nulls took effect: each variant lacks what its nulls removed (and still validated above)."""
    kserve = compiled["quickstart-nulls"] / "deploy/prod/iris-classifier/inferenceservice.yaml"
    predictor = yaml.safe_load(kserve.read_text())["spec"]["predictor"]
    assert {"scaleMetric", "scaleTarget"}.isdisjoint(predictor)
    assert "protocolVersion" not in predictor["model"]
    assert predictor["model"]["resources"] == {}
    plain = compiled["quickstart-nulls-kubernetes"] / "deploy/prod/iris-classifier"
    hpa = yaml.safe_load((plain / "hpa.yaml").read_text())
    assert "metrics" not in hpa["spec"] and hpa["spec"]["maxReplicas"] == 4
    deployment = yaml.safe_load((plain / "deployment.yaml").read_text())
    resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    # cpu: no request, so no limit (it defaults to the request); memory: a request, no limit
    assert resources == {"requests": {"memory": "1Gi"}}
    fixed = compiled["quickstart-no-autoscaling-kubernetes"] / "deploy"
    assert not (fixed / "prod/iris-classifier/hpa.yaml").exists()
    assert (fixed / "dev/iris-classifier/hpa.yaml").is_file()
    deployment = yaml.safe_load((fixed / "prod/iris-classifier/deployment.yaml").read_text())
    assert "replicas" not in deployment["spec"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"] == {}


def test_the_validators_are_not_vacuous(compiled: dict[str, Path]) -> None:
    """An unknown field is caught by both validators, and an unknown custom resource has no schema."""
    root = compiled["gitlab-flux-k8s"]
    deployment = yaml.safe_load((root / "deploy/prod/product-ranker/deployment.yaml").read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    assert kubernetes_errors(deployment)
    service = yaml.safe_load(
        (
            compiled["platform"] / "deploy/prod/fraud-detector/inferenceservice-fraud-detector-1-4-2.yaml"
        ).read_text()
    )
    assert not schema_errors(service)
    service["spec"]["predictor"]["canaryTraficPercent"] = 10
    assert schema_errors(service)
    assert schema_errors({"apiVersion": "example.com/v1", "kind": "Widget"})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_vendored_target_schemas_are_unmodified() -> None:
    """tests/target-schemas is a byte-for-byte copy of ../shared/target-schemas (when that exists) and
    matches the sha256 recorded for each file in its SOURCES.json (always)."""
    vendored = {
        p.relative_to(TARGET_SCHEMAS).as_posix(): p for p in sorted(TARGET_SCHEMAS.rglob("*")) if p.is_file()
    }
    sources = json.loads((TARGET_SCHEMAS / "SOURCES.json").read_bytes())
    unlisted = sorted(set(vendored) - set(sources) - {"README.md", "SOURCES.json"})
    assert not unlisted, f"files in tests/target-schemas without a SOURCES.json entry: {unlisted}"
    missing = sorted(set(sources) - set(vendored))
    assert not missing, f"SOURCES.json lists files that are not vendored: {missing}"
    mismatched = sorted(name for name, entry in sources.items() if _sha256(vendored[name]) != entry["sha256"])
    assert not mismatched, f"vendored files differ from their recorded sha256: {mismatched}"
    if SHARED_SCHEMAS.is_dir():
        shared = {
            p.relative_to(SHARED_SCHEMAS).as_posix(): p.read_bytes()
            for p in sorted(SHARED_SCHEMAS.rglob("*"))
            if p.is_file()
        }
        ours = {name: path.read_bytes() for name, path in vendored.items()}
        assert sorted(ours) == sorted(shared), (
            "tests/target-schemas and ../shared/target-schemas hold different files"
        )
        differing = sorted(name for name in ours if ours[name] != shared[name])
        assert not differing, f"copy ../shared/target-schemas again; these differ: {differing}"


def test_the_gitops_knobs_reach_the_objects(compiled: dict[str, Path]) -> None:
    def objects(variant: str, kind: str) -> list[Any]:
        return [doc for _, doc in yaml_documents(compiled[variant]) if doc and doc.get("kind") == kind]

    def wave(app: Any) -> int:
        return int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])

    apps = sorted(objects("platform-argocd-knobs", "Application"), key=wave)
    assert len(apps) >= 2
    assert [wave(app) for app in apps] == list(range(len(apps)))
    assert all(app["metadata"]["name"].startswith("ml-") for app in apps)
    assert all(app["metadata"]["name"].endswith("-acme-ml-platform") for app in apps)
    *others, last = apps
    assert last["spec"]["source"]["targetRevision"] == "release"
    assert "automated" not in last["spec"]["syncPolicy"]
    assert all("automated" in app["spec"]["syncPolicy"] for app in others)
    assert all(app["spec"]["source"]["targetRevision"] == "main" for app in others)

    (appset,) = objects("quickstart-applicationset-knobs", "ApplicationSet")
    *first, final = appset["spec"]["generators"][0]["list"]["elements"]
    assert final["syncPolicy"] == "manual"
    assert {e["syncPolicy"] for e in first} == {"automated"}
    assert final["revision"] == "release"
    assert final["name"] == f"ml-{final['env']}-quickstart"
    assert appset["spec"]["template"]["metadata"]["name"] == "{{.name}}"
    assert "automated" not in appset["spec"]["template"]["spec"]["syncPolicy"]
    assert 'eq .syncPolicy "automated"' in appset["spec"]["templatePatch"]

    kustomizations = [
        k
        for k in objects("gitlab-flux-k8s-knobs", "Kustomization")
        if k["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")
    ]
    assert len(kustomizations) >= 2
    repositories = {r["metadata"]["name"]: r for r in objects("gitlab-flux-k8s-knobs", "GitRepository")}
    assert len(repositories) == 2
    for k in kustomizations:
        assert k["spec"]["retryInterval"] == "1m"
        assert "timeout" not in k["spec"]
        assert k["spec"]["prune"] is False
        assert {"name": "kserve"} in k["spec"]["dependsOn"]
    (own,) = [k for k in kustomizations if "prod-secrets" in str(k["spec"]["dependsOn"])]
    assert repositories[own["spec"]["sourceRef"]["name"]]["spec"]["ref"]["branch"] == "release"
    assert all(
        k["spec"]["sourceRef"]["name"] != own["spec"]["sourceRef"]["name"]
        for k in kustomizations
        if k is not own
    )
