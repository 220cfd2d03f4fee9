"""Distributed training (``training.distributed``): what differs from the single-machine Job.

The CI training pipeline creates ``training-job.yaml`` whatever it holds, so a distributed run
is written to the same file, as the engine's own kind: a Kubeflow Trainer ``TrainJob``
(``pytorch``), a training-operator ``PyTorchJob`` (``pytorchjob``) or a KubeRay ``RayJob``
(``ray``). Every pod gets the Job's container (image, environment, resources, hardening,
placement); ``resources`` are each worker's (``gpusPerWorker`` is applied in the IR). No
CronJob is written for a distributed run (see validate/distributed.py, MLG391).
"""

from __future__ import annotations

import shlex
from typing import Any

from mlgitops import ir
from mlgitops.ir.build import LABEL_PREFIX
from mlgitops.targets import k8s

TEMPLATES = {"pytorch": "trainjob.yaml.j2", "pytorchjob": "pytorchjob.yaml.j2", "ray": "rayjob.yaml.j2"}
# The Ray cluster of a finished RayJob is deleted after this long, not the Job's three days: it
# holds the workers' resources (GPUs) until then. Ten minutes leave the CI step time for logs.
RAY_CLUSTER_TTL_SECONDS = 600


def context(training: ir.Training, distributed: ir.Distributed) -> dict[str, Any]:
    """The template context a distributed run adds to the Job's."""
    engine = distributed.engine
    extra: dict[str, Any] = {"workers": distributed.workers}
    if engine == "pytorch":
        extra["patch_manager"] = f"{LABEL_PREFIX}/mlgitops"
    elif engine == "pytorchjob":
        roles = [("Master", 1)]
        if distributed.workers > 1:
            roles.append(("Worker", distributed.workers - 1))
        extra.update(replica_roles=roles, container_name="pytorch", restart_policy="OnFailure")
    else:
        extra.update(
            ray=True,
            # The Ray job's driver: the training command, run by `ray job submit` on the head.
            entrypoint=shlex.join((*training.command, *training.args)),
            head_resources=k8s.resources(_without_gpus(training.resources)),
            cluster_ttl_seconds=RAY_CLUSTER_TTL_SECONDS,
        )
    return extra


def _without_gpus(resources: ir.Resources | None) -> ir.Resources | None:
    """The Ray head and the submitter run no training step: the workers' CPU and memory, no GPU."""
    if resources is None or not resources.gpu:
        return resources
    gpu = resources.gpu_resource
    return ir.Resources(
        tuple(item for item in resources.requests if item[0] != gpu),
        tuple(item for item in resources.limits if item[0] != gpu),
    )
