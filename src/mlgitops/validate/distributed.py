"""Distributed training (``training.distributed``) that cannot be rendered (MLG390-392).

A TrainJob, PyTorchJob or RayJob is created in the cluster by the CI training pipeline, as the
single-machine Job is, so it needs ``runner: kubernetes`` (MLG390). ``training.schedule``
schedules the CI training pipeline, which then submits the distributed job as on demand; the
single-machine Job also gets a ready-made, suspended in-cluster CronJob, but a CronJob runs a
pod and cannot create a custom resource without a kubectl image and RBAC of its own, so none
is written for distributed training, and a note says so (MLG391). ``gpusPerWorker`` and
``resources.gpu`` say the same thing; two different numbers are refused (MLG392). A RayJob
runs the training command as its Ray job's ``entrypoint`` (the containers start Ray), so Ray
needs a ``command`` (MLG393).
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.validate import ValidatedProject


def check_distributed_training(project: ValidatedProject) -> Iterator[Diagnostic]:
    for model in project.models:
        training = model.spec.spec.training
        if training is None or training.distributed is None:
            continue
        place = ("spec", "training", "distributed")
        if training.runner != "kubernetes":
            yield make(
                "MLG390",
                f"model {model.name!r} trains on several machines (training.distributed) but "
                f"with runner {training.runner!r}",
                model.doc.locate(place),
                "set 'training.runner: kubernetes': the CI pipeline creates the distributed job in "
                "the cluster and waits for it",
            )
        if training.schedule is not None:
            yield make(
                "MLG391",
                f"model {model.name!r} trains on several machines: its training.schedule starts "
                "the CI training pipeline, which submits the distributed job, and no in-cluster "
                "CronJob is written",
                model.doc.locate(("spec", "training", "schedule")),
                "a CronJob cannot create a TrainJob, PyTorchJob or RayJob; on GitLab create the "
                "pipeline schedule (docs/ci.md, 'Triggers')",
            )
        wanted = training.distributed.gpus_per_worker
        written = training.resources.gpu if training.resources is not None else None
        if wanted is not None and written is not None and written != wanted:
            yield make(
                "MLG392",
                f"model {model.name!r} asks for {wanted} GPU(s) per worker but "
                f"{written} in training.resources.gpu",
                model.doc.locate((*place, "gpusPerWorker")),
                "write the number once: 'gpusPerWorker' (or 'resources.gpu', which each worker gets)",
                related=[model.doc.locate(("spec", "training", "resources", "gpu"))],
            )
        if training.distributed.engine == "ray" and not training.command:
            yield make(
                "MLG393",
                f"model {model.name!r} trains with Ray but has no training.command",
                model.doc.locate((*place, "engine")),
                "write the command (e.g. '[python, -m, pkg.train]'): it is the RayJob's "
                "entrypoint, which 'ray job submit' runs on the Ray cluster",
            )
