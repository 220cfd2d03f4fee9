"""Distributed training (``training.distributed``, issue 11): the CI pipeline's
``training-job.yaml`` is a Kubeflow Trainer TrainJob, a training-operator PyTorchJob or a KubeRay
RayJob, carrying what the single-machine Job carries.

Compiled into temporary copies of the platform example, whose ``support-llm`` trains on a GPU
with ``runner: kubernetes`` (image, command, params, a ``fromSecret`` and a literal variable,
service account, node selector, GPU toleration, a data source): every pod of each engine's
object has the image, the training contract's variables and the spec's, the secret reference,
each worker's resources with ``gpusPerWorker`` GPUs (in ``resources.gpuResource``), the node
selector, tolerations, service account and the spec's security relaxations; the run's deadline
is the training limit. Schema validity and Pod Security "restricted" are checked for the three
engines by tests/test_outputs_valid.py; the CI step's wait by tests/test_cluster_job_wait.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import assert_not_in_git, copy_specs, edit_yaml, example
from mlgitops.pipeline import compile_project

JOB = "deploy/dev/support-llm/training-job.yaml"
CRONJOB = "deploy/dev/support-llm/training-cronjob.yaml"
GPU = "example.com/gpu"


def _compile(tmp_path: Path, distributed: dict[str, Any], schedule: bool = False) -> dict[str, Any]:
    root = copy_specs(example("platform"), tmp_path / "platform")
    assert_not_in_git(root)

    def edit(data: Any) -> None:
        training = data["spec"]["training"]
        training["distributed"] = distributed
        training["resources"] = {"cpu": "8", "memory": "64Gi", "gpuResource": GPU}
        training["securityContext"] = {"runAsUser": 1001, "writablePaths": ["/home/app/.cache"]}
        if schedule:
            training["schedule"] = "0 3 * * 1"

    edit_yaml(root / "models/support-llm.yaml", edit)
    result = compile_project(root, use_cache=False)
    assert result.ok, [f"{d.location}: {d.code} {d.message}" for d in result.diagnostics]
    assert not (root / CRONJOB).exists()  # a CronJob cannot create the distributed job (MLG391)
    document: dict[str, Any] = yaml.safe_load((root / JOB).read_text(encoding="utf-8"))
    assert document["metadata"]["generateName"] == "support-llm-training-"
    assert document["metadata"]["annotations"]["mlgitops.dev/version"] == "__MLGITOPS_VERSION__"
    return document


def _env(containers: list[dict[str, Any]]) -> None:
    for container in containers:
        env = {var["name"]: var for var in container["env"]}
        assert env["MLGITOPS_VERSION"]["value"] == "__MLGITOPS_VERSION__"
        assert env["MLGITOPS_MODEL_URI"]["value"] == "s3://acme-models/support-llm/__MLGITOPS_VERSION__/"
        assert env["MLGITOPS_DATA_SUPPORT_TICKETS_VERSION"]["value"] == "2026-10-31"
        assert env["HF_HUB_ENABLE_HF_TRANSFER"]["value"] == "1"
        assert env["HF_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "huggingface", "key": "token"}}


def _pod(pod: dict[str, Any], container_name: str) -> dict[str, Any]:
    """The placement and hardening of a training pod; its one container, named as the engine wants."""
    assert pod["serviceAccountName"] == "llm-trainer"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    assert pod["securityContext"]["runAsUser"] == 1001
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["name"] == container_name
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/home/app/.cache", "/dev/shm"} <= mounts
    return dict(container)


def _worker_resources(gpus: str) -> dict[str, Any]:
    both = {"cpu": "8", "memory": "64Gi", GPU: gpus}
    return {"requests": both, "limits": both}


def test_pytorch_is_a_trainjob_on_the_torch_runtime(tmp_path: Path) -> None:
    job = _compile(tmp_path, {"engine": "pytorch", "workers": 4, "gpusPerWorker": 2})
    assert (job["apiVersion"], job["kind"]) == ("trainer.kubeflow.org/v1alpha1", "TrainJob")
    spec = job["spec"]
    assert spec["runtimeRef"]["name"] == "torch-distributed"
    assert spec["activeDeadlineSeconds"] == 720 * 60
    trainer = spec["trainer"]
    assert trainer["image"] == "ghcr.io/acme/llm-finetune:2.3.1"
    assert trainer["command"] == ["python", "-m", "support_llm.finetune"]
    assert "--lora_rank=16" in trainer["args"]
    assert trainer["numNodes"] == 4
    assert trainer["resourcesPerNode"] == _worker_resources("2")
    _env([trainer])
    [patch] = spec["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert node["name"] == "node"
    template = node["template"]["spec"]["template"]
    assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "training"
    _pod(template["spec"], "node")


@pytest.mark.parametrize(("workers", "roles"), [(3, {"Master": 1, "Worker": 2}), (1, {"Master": 1})])
def test_pytorchjob_is_a_master_and_workers(tmp_path: Path, workers: int, roles: dict[str, int]) -> None:
    job = _compile(tmp_path, {"engine": "pytorchjob", "workers": workers, "gpusPerWorker": 1}, schedule=True)
    assert (job["apiVersion"], job["kind"]) == ("kubeflow.org/v1", "PyTorchJob")
    spec = job["spec"]
    assert spec["runPolicy"]["activeDeadlineSeconds"] == 720 * 60
    replicas = spec["pytorchReplicaSpecs"]
    assert {role: replica["replicas"] for role, replica in replicas.items()} == roles
    for replica in replicas.values():
        assert replica["restartPolicy"] == "OnFailure"
        container = _pod(replica["template"]["spec"], "pytorch")
        assert container["image"] == "ghcr.io/acme/llm-finetune:2.3.1"
        assert container["command"] == ["python", "-m", "support_llm.finetune"]
        assert container["resources"] == _worker_resources("1")
        _env([container])


def test_ray_is_a_rayjob_whose_entrypoint_is_the_command(tmp_path: Path) -> None:
    job = _compile(tmp_path, {"engine": "ray", "workers": 2, "gpusPerWorker": 4})
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    spec = job["spec"]
    assert spec["entrypoint"].startswith("python -m support_llm.finetune --base_model=")
    assert spec["shutdownAfterJobFinishes"] is True
    assert spec["activeDeadlineSeconds"] == 720 * 60
    cluster = spec["rayClusterSpec"]
    head = _pod(cluster["headGroupSpec"]["template"]["spec"], "ray-head")
    [group] = cluster["workerGroupSpecs"]
    assert group["replicas"] == group["minReplicas"] == group["maxReplicas"] == 2
    worker = _pod(group["template"]["spec"], "ray-worker")
    submitter = _pod(spec["submitterPodTemplate"]["spec"], "ray-job-submitter")
    # KubeRay starts Ray in the head and workers, and `ray job submit` in the submitter
    for container in (head, worker, submitter):
        assert "command" not in container and "args" not in container
        assert container["image"] == "ghcr.io/acme/llm-finetune:2.3.1"
    assert worker["resources"] == _worker_resources("4")
    # the head runs the driver, not the training steps: the workers' CPU and memory, no GPU
    assert head["resources"] == {
        "requests": {"cpu": "8", "memory": "64Gi"},
        "limits": {"cpu": "8", "memory": "64Gi"},
    }
    _env([head, worker, submitter])


def test_a_single_machine_run_is_still_a_job(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    assert compile_project(root, use_cache=False).ok
    assert yaml.safe_load((root / JOB).read_text(encoding="utf-8"))["kind"] == "Job"
