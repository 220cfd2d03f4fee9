"""The Kubernetes training runner: a Job on demand and a suspended CronJob on schedule (issue 4).

Compiled into temporary copies of the platform example (``support-llm`` trains on a GPU
with ``runner: kubernetes``, no schedule) and of the benchmark generator's project with 24
models (Kubernetes-runner models with and without a schedule, some on the distributed engines):

* the Job and the CronJob validate strictly against the Kubernetes 1.30 schemas, the Job
  also after CI's ``sed`` has put a version in (and the version stays a string);
* ``kubectl kustomize`` of the first environment includes the CronJobs and never the Job;
  no other environment gets either;
* GPU resources, ``secretKeyRef``, node selector, tolerations, service account, deadline,
  ``suspend: true``, ``generateName``, the training contract's variables and the secure
  defaults are there; CI-only secrets are not; ``runner: ci`` models get neither file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from compile_helpers import (
    ROOT,
    assert_not_in_git,
    copy_specs,
    edit_yaml,
    environments,
    example,
    kustomize_build,
)
from conftest import require_tool
from mlgitops.pipeline import compile_project
from mlgitops.targets.k8s import CRONJOB_NAME_MAX, bounded

pytestmark = pytest.mark.external

KUBERNETES_VERSION = "1.30"
PLACEHOLDER = "__MLGITOPS_VERSION__"
COMPONENT = "app.kubernetes.io/component"
SERVING_SELECTOR = ("app.kubernetes.io/instance", "app.kubernetes.io/name")  # the plain-Kubernetes Service's


def _compile(root: Path) -> Path:
    assert_not_in_git(root)
    result = compile_project(root, use_cache=False)
    assert result.ok, [f"{d.location}: {d.code} {d.message}" for d in result.diagnostics]
    return root


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("training")
    bench = base / "benchmark"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), "24", str(bench)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {
        "platform": _compile(copy_specs(example("platform"), base / "platform")),
        "benchmark": _compile(bench),
    }


def specs(root: Path) -> dict[str, dict[str, Any]]:
    """model name → its spec (retired models left out: they generate nothing)."""
    out = {}
    for path in root.glob("models/**/*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if spec["spec"].get("lifecycle", {}).get("stage") != "retired":
            out[spec["metadata"]["name"]] = spec
    return out


def training(spec: dict[str, Any]) -> dict[str, Any]:
    return dict(spec["spec"].get("training") or {})


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


# The distributed engines' kinds (training.distributed): their own schemas and pod layout,
# checked by tests/test_distributed_training.py and the outputs-valid variants.
DISTRIBUTED_KINDS = frozenset({"TrainJob", "PyTorchJob", "RayJob"})


def kubernetes_errors(document: dict[str, Any]) -> list[str]:
    if document["kind"] in DISTRIBUTED_KINDS:
        from test_outputs_valid import schema_errors  # the vendored CRD schemas

        return schema_errors(document)
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'/'.join(map(str, exc.absolute_path)) or '<root>'}: {exc.message}"]
    return []


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    job = document["spec"]["jobTemplate"]["spec"] if document["kind"] == "CronJob" else document["spec"]
    spec: dict[str, Any] = job["template"]["spec"]
    return spec


def env_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in pod_spec(document)["containers"][0]["env"]}


def first_env(root: Path) -> tuple[str, str]:
    return environments(root)[0]


@pytest.mark.parametrize("project", ["platform", "benchmark"])
def test_the_training_manifests_are_where_the_runner_says(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    first, _ = first_env(root)
    expected = set()
    for name, spec in specs(root).items():
        t = training(spec)
        if t.get("runner") == "kubernetes":
            expected.add(f"deploy/{first}/{name}/training-job.yaml")
            if t.get("schedule"):
                expected.add(f"deploy/{first}/{name}/training-cronjob.yaml")
    found = {p.relative_to(root).as_posix() for p in root.glob("deploy/**/training-*job.yaml")}
    assert found == expected
    assert any(p.endswith("training-job.yaml") for p in found)
    if project == "benchmark":  # the benchmark has scheduled and unscheduled Kubernetes runners
        assert any(p.endswith("training-cronjob.yaml") for p in found)
        assert any(p.replace("-job.", "-cronjob.") not in found for p in found if p.endswith("-job.yaml"))


@pytest.mark.parametrize("project", ["platform", "benchmark"])
def test_the_manifests_validate_strictly(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    problems = []
    for path in sorted(root.glob("deploy/**/training-*job.yaml")):
        text = path.read_text(encoding="utf-8")
        variants = [text]
        if path.name == "training-job.yaml":
            assert PLACEHOLDER in text
            # what CI creates: the version put in by sed; "1.10" must stay a string
            variants.append(text.replace(PLACEHOLDER, "1.10"))
        for variant in variants:
            document = yaml.safe_load(variant)
            problems += [f"{path.relative_to(root)}: {e}" for e in kubernetes_errors(document)]
        if path.name == "training-job.yaml":
            substituted = yaml.safe_load(variants[1])
            assert substituted["metadata"]["annotations"]["mlgitops.dev/version"] == "1.10"
            if substituted["kind"] in DISTRIBUTED_KINDS:
                continue
            assert env_of(substituted)["MLGITOPS_VERSION"]["value"] == "1.10"
            assert substituted["metadata"]["annotations"]["mlgitops.dev/version"] == "1.10"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("project", ["platform", "benchmark"])
def test_kustomize_includes_the_cronjobs_but_never_the_job(projects: dict[str, Path], project: str) -> None:
    kubectl = require_tool("kubectl")
    root = projects[project]
    first, namespace = first_env(root)
    scheduled = sorted(
        bounded(f"{name}-training", CRONJOB_NAME_MAX)
        for name, spec in specs(root).items()
        if training(spec).get("runner") == "kubernetes" and training(spec).get("schedule")
    )
    for env, _ in environments(root):
        built = kustomize_build(kubectl, root / "deploy" / env)
        # other targets (the drift check) have CronJobs of their own
        ours = [d for d in built if d["metadata"].get("labels", {}).get(COMPONENT) == "training"]
        assert not [d for d in built if d["kind"] == "Job"], "an on-demand Job is in the kustomization"
        assert {d["kind"] for d in ours} <= {"CronJob"}
        cronjobs = sorted(d["metadata"]["name"] for d in ours)
        assert cronjobs == (scheduled if env == first else []), env
        assert all(d["metadata"]["namespace"] == namespace for d in ours)


def test_the_gpu_job_of_the_platform_example(projects: dict[str, Path]) -> None:
    root = projects["platform"]
    job = load(root / "deploy/dev/support-llm/training-job.yaml")
    assert not (root / "deploy/dev/support-llm/training-cronjob.yaml").exists()  # no schedule
    assert not list(root.glob("deploy/staging/*/training-*job.yaml")) and not list(
        root.glob("deploy/prod/*/training-*job.yaml")
    )
    metadata = job["metadata"]
    assert metadata["generateName"] == "support-llm-training-" and "name" not in metadata
    assert metadata["namespace"] == "ml-dev"
    spec = job["spec"]
    assert spec["activeDeadlineSeconds"] == 720 * 60
    assert spec["backoffLimit"] >= 0 and spec["ttlSecondsAfterFinished"] > 0
    pod = pod_spec(job)
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "llm-trainer"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/acme/llm-finetune:2.3.1"
    assert container["command"] == ["python", "-m", "support_llm.finetune"]
    assert "--lora_rank=16" in container["args"]
    resources = container["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "1"
    assert resources["requests"]["memory"] == "64Gi"
    env = env_of(job)
    assert env["HF_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "huggingface", "key": "token"}}
    assert env["HF_HUB_ENABLE_HF_TRANSFER"]["value"] == "1"
    assert env["MLGITOPS_MODEL"]["value"] == "support-llm"
    assert env["MLGITOPS_VERSION"]["value"] == PLACEHOLDER
    assert env["MLGITOPS_MODEL_URI"]["value"] == f"s3://acme-models/support-llm/{PLACEHOLDER}/"
    assert env["MLGITOPS_DATA_SUPPORT_TICKETS_VERSION"]["value"] == "2026-10-31"


def _assert_secure(pod: dict[str, Any], where: str) -> None:
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["seccompProfile"] == {"type": "RuntimeDefault"}, (
        where
    )
    assert pod["automountServiceAccountToken"] is False, where
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where
        assert container["resources"]["requests"] and container["resources"]["limits"], where
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"], where


def test_every_training_manifest_matches_its_spec(projects: dict[str, Path]) -> None:
    root = projects["benchmark"]
    first, _ = first_env(root)
    checked = 0
    for name, spec in specs(root).items():
        t = training(spec)
        directory = root / "deploy" / first / name
        if t.get("runner") != "kubernetes":
            assert not list(root.glob(f"deploy/*/{name}/training-*job.yaml")), f"{name} trains in CI"
            continue
        manifests = [load(directory / "training-job.yaml")]
        if t.get("schedule"):
            manifests.append(load(directory / "training-cronjob.yaml"))
        for document in manifests:
            if document["kind"] in DISTRIBUTED_KINDS:
                assert "distributed" in t, f"{name}: a {document['kind']} without training.distributed"
                continue
            checked += 1
            where = f"{name} {document['kind']}"
            pod = pod_spec(document)
            _assert_secure(pod, where)
            container = pod["containers"][0]
            assert container["image"] == t["image"], where
            assert container["args"][: len(t.get("args", []))] == t.get("args", []), where
            gpu = t["resources"].get("gpu")
            if gpu:
                assert container["resources"]["limits"]["nvidia.com/gpu"] == str(gpu), where
                assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"], where
            assert pod.get("nodeSelector") == t.get("nodeSelector"), where
            assert len(pod.get("tolerations", [])) == len(t.get("tolerations", [])), where
            assert pod.get("serviceAccountName") == t.get("serviceAccount"), where
            env = env_of(document)
            for variable, value in t.get("env", {}).items():
                if isinstance(value, str):
                    assert env[variable]["value"] == value, where
                elif "fromSecret" in value:
                    ref = {"name": value["fromSecret"]["name"], "key": value["fromSecret"]["key"]}
                    assert env[variable]["valueFrom"] == {"secretKeyRef": ref}, where
                else:  # a CI secret never reaches a cluster object
                    assert variable not in env, where
            labels = pod_spec_labels(document)
            serving = {
                key: f"{name}-{first}" if key.endswith("instance") else name for key in SERVING_SELECTOR
            }
            assert any(labels.get(k) != v for k, v in serving.items()), (
                f"{where}: the serving Service selects it"
            )
            assert labels[COMPONENT] == "training", where
            if document["kind"] == "CronJob":
                cron = document["spec"]
                assert cron["suspend"] is True, where
                assert cron["schedule"] == t["schedule"] and cron["timeZone"] == "Etc/UTC", where
                assert cron["concurrencyPolicy"] == "Forbid", where
                assert cron["successfulJobsHistoryLimit"] >= 1 and cron["failedJobsHistoryLimit"] >= 1, where
                assert "MLGITOPS_VERSION" not in env, where  # a scheduled run derives its own version
                assert "{version}" in env["MLGITOPS_MODEL_URI_TEMPLATE"]["value"], where
                job = cron["jobTemplate"]["spec"]
            else:
                assert document["metadata"]["generateName"] == f"{name}-training-", where
                assert env["MLGITOPS_VERSION"]["value"] == PLACEHOLDER, where
                assert PLACEHOLDER in env["MLGITOPS_MODEL_URI"]["value"], where
                job = document["spec"]
            assert job["activeDeadlineSeconds"] == 60 * t.get("timeoutMinutes", 120), where
            assert job["template"]["spec"]["restartPolicy"] == "Never", where
            assert env["MLGITOPS_MODEL"]["value"] == name, where
    assert checked >= 3


def pod_spec_labels(document: dict[str, Any]) -> dict[str, str]:
    job = document["spec"]["jobTemplate"]["spec"] if document["kind"] == "CronJob" else document["spec"]
    labels: dict[str, str] = job["template"]["metadata"]["labels"]
    return labels


def test_a_long_model_name_gets_a_valid_cronjob_name(tmp_path: Path) -> None:
    """CronJob names have at most 52 characters (the Job name adds 11), and "<model>-training" can
    be longer: a model name of 55 characters is the longest the environment "staging" allows
    (the serving objects' instance label "<model>-<environment>" has at most 63, MLG327)."""
    root = copy_specs(example("platform"), tmp_path / "platform")
    long_name = "support-llm-" + "x" * 43
    path = root / "models/support-llm.yaml"

    def rename(data: Any) -> None:
        data["metadata"]["name"] = long_name
        data["spec"]["training"]["schedule"] = "0 2 * * *"

    edit_yaml(path, rename)
    _compile(root)
    cronjob = load(root / f"deploy/dev/{long_name}/training-cronjob.yaml")
    name = cronjob["metadata"]["name"]
    assert len(name) <= CRONJOB_NAME_MAX and name == bounded(f"{long_name}-training", CRONJOB_NAME_MAX)
    assert len(cronjob["metadata"]["labels"]["app.kubernetes.io/instance"]) <= 63
    assert not kubernetes_errors(cronjob)
    assert cronjob["spec"]["suspend"] is True


def test_bounded_names_are_stable_and_distinct() -> None:
    assert bounded("short-training", 52) == "short-training"
    a, b = bounded("a" * 60 + "-one", 52), bounded("a" * 60 + "-two", 52)
    assert len(a) == len(b) == 52 and a != b
    assert a == bounded("a" * 60 + "-one", 52)


def test_an_override_template_hands_the_schedule_to_the_cluster(tmp_path: Path) -> None:
    """The documented way to unsuspend the CronJob (docs/ci.md): override training/cronjob.yaml.j2."""
    root = copy_specs(example("platform"), tmp_path / "platform")
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(templates="ci-templates"))
    edit_yaml(root / "models/support-llm.yaml", lambda d: d["spec"]["training"].update(schedule="0 2 * * 6"))
    builtin = (ROOT / "templates/training/cronjob.yaml.j2").read_text(encoding="utf-8")
    assert builtin.count("suspend: true") == 1
    override = root / "ci-templates/training/cronjob.yaml.j2"
    override.parent.mkdir(parents=True)
    override.write_text(builtin.replace("suspend: true", "suspend: false"), encoding="utf-8")
    _compile(root)
    cronjob = load(root / "deploy/dev/support-llm/training-cronjob.yaml")
    assert cronjob["spec"]["suspend"] is False
    assert (
        pod_spec(cronjob)["containers"][0]["image"] == "ghcr.io/acme/llm-finetune:2.3.1"
    )  # shared spec still used
    assert not kubernetes_errors(cronjob)
