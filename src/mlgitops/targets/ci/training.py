"""Kubernetes training runner: a Job (on demand) and a CronJob (on schedule) per model.

For every model whose ``training.runner`` is ``kubernetes`` this target writes,
into the tree of the *first* environment (where new versions are trained and
first deployed):

* ``<output>/<env>/<model>/training-job.yaml``: a ``batch/v1`` Job that the CI
  training pipeline creates on demand with
  ``sed "s/__MLGITOPS_VERSION__/$VERSION/g" training-job.yaml | kubectl create -f -``.
  It has ``metadata.generateName`` (every run is a new Job) and is *not* in
  the environment's kustomization, so GitOps never applies it;
* ``<output>/<env>/<model>/training-cronjob.yaml`` (only with a
  ``training.schedule``): a ``batch/v1`` CronJob on the spec's schedule (UTC),
  listed in the kustomization.  It is **suspended** (``suspend: true``) by
  default, because the CI training pipeline already runs on that schedule
  (train → evaluate → gate → register → promotion pull request).  It is a
  ready-made in-cluster schedule; unsuspend it with an override template
  (``spec.templates``: ``training/cronjob.yaml.j2``) when the cluster should
  own the schedule (then drop the schedule from CI).  See docs/ci.md.

Both run the training container with the spec's image, command, arguments
(``--param=value`` included), environment (literals, and ``secretKeyRef`` for
``fromSecret``; CI-only secrets never reach the cluster), resources and GPUs,
node selector, tolerations and service account, under the same secure
defaults as the serving Deployment (non-root, read-only root filesystem with a
writable ``/tmp``, no privilege escalation, every capability dropped, seccomp
RuntimeDefault, no service-account token).  ``activeDeadlineSeconds`` is the
spec's ``timeoutMinutes``.

The training contract (docs/ci.md): ``MLGITOPS_MODEL``, the data sources'
``MLGITOPS_DATA_<NAME>_URI``/``_VERSION``, and for the Job ``MLGITOPS_VERSION``
and ``MLGITOPS_MODEL_URI`` (where to write the model).  A CronJob run has no
version chosen for it: ``MLGITOPS_VERSION`` is unset, and the training code
derives one (e.g. ``YYYY.MM.DD.HHMM`` in UTC) and fills it into
``MLGITOPS_MODEL_URI_TEMPLATE`` (the artifact with ``{version}`` left in).
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir
from mlgitops.ir.build import LABEL_PREFIX, label_value
from mlgitops.render.yamlout import quote
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.ci import contract, distributed

VERSION_PLACEHOLDER = "__MLGITOPS_VERSION__"
BACKOFF_LIMIT = 1  # one retry for a real failure; evictions and preemptions are not counted
TTL_SECONDS = 3 * 24 * 3600  # finished Jobs (and their logs) stay three days for debugging
# A missed schedule (controller down) still starts within an hour; later it waits for the next one.
STARTING_DEADLINE_SECONDS = 3600
# Kubernetes limits: a CronJob name leaves 11 characters for the Job name suffix; labels are 63.
# A value that is the placeholder alone must be written quoted, so that it stays a string whatever
# version sed puts in (a plain 1.10 would read as a number, which kubectl rejects for an env value).
# The YAML writer would write "__MLGITOPS_VERSION__" plain; a NUL makes it quote this sentinel, and
# its quoted form is then replaced (only a spec value holding a NUL could contain that text too, and
# there the replacement drops the NUL: the value stays one quoted string).
_SENTINEL = "\x00" + VERSION_PLACEHOLDER


def quote_placeholder(text: str) -> str:
    return text.replace(quote(_SENTINEL), quote(VERSION_PLACEHOLDER))


class Training:
    name = "training"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        first = project.environments[0]
        files: list[OutputFile] = []
        for model in project.models:
            training = model.training
            if training is None or training.runner != "kubernetes":
                continue
            base = f"{project.output}/{first.name}/{model.name}"
            common = {"t": training, "namespace": first.namespace, **self._common(project, model, first)}
            template, extra = "job.yaml.j2", {}
            if training.distributed is not None:
                template = distributed.TEMPLATES[training.distributed.engine]
                extra = distributed.context(training, training.distributed)
            job = ctx.yaml_file(
                self.name,
                template,
                {**common, **self._run(model, training, on_demand=True), **extra},
                path=f"{base}/training-job.yaml",
                source=model.source,
            )
            files.append(OutputFile(job.path, quote_placeholder(job.content), job.source, None))
            # A CronJob cannot create a distributed job: CI's schedule starts it (MLG391).
            if training.schedule and training.distributed is None:
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "cronjob.yaml.j2",
                        {**common, **self._run(model, training, on_demand=False)},
                        path=f"{base}/training-cronjob.yaml",
                        source=model.source,
                        environment=first.name,
                    )
                )
        return files

    @staticmethod
    def _common(project: ir.Project, model: ir.Model, env: ir.Environment) -> dict[str, Any]:
        labels = training_labels(project, model, env)
        return {
            **k8s.HELPERS,
            "labels": labels,
            # The pods carry the object's labels: instance "<model>-training" keeps them out of the
            # serving Service's selector (instance "<model>-<env>" + name).
            "pod_labels": labels,
            "name": k8s.bounded(f"{model.name}-training", k8s.CRONJOB_NAME_MAX),
            # The API server truncates a long generateName itself before adding its suffix.
            "generate_name": f"{model.name}-training-",
            "starting_deadline_seconds": STARTING_DEADLINE_SECONDS,
            "backoff_limit": BACKOFF_LIMIT,
            "ttl_seconds": TTL_SECONDS,
            "restart_policy": "Never",
            "container_name": "train",
            "ray": False,
        }

    @staticmethod
    def _run(model: ir.Model, training: ir.Training, *, on_demand: bool) -> dict[str, Any]:
        """What differs between an on-demand run (version known) and a scheduled one (not)."""
        contract_env: dict[str, str] = {"MLGITOPS_MODEL": model.name}
        annotations = k8s.training_annotations(model)
        if on_demand:
            contract_env["MLGITOPS_VERSION"] = _SENTINEL
            if model.artifact:
                contract_env["MLGITOPS_MODEL_URI"] = model.artifact.replace("{version}", VERSION_PLACEHOLDER)
            annotations[f"{LABEL_PREFIX}/version"] = _SENTINEL
        elif model.artifact:
            contract_env["MLGITOPS_MODEL_URI_TEMPLATE"] = model.artifact
        contract_env.update(contract.data_variables(model))
        user = k8s.env(training.env)
        # The contract comes first and wins: a spec variable of the same name would be a duplicate
        # entry, which the API server merges unpredictably.
        env = [{"name": k, "value": v} for k, v in contract_env.items()]
        env += [var for var in user if var["name"] not in contract_env]
        return {
            "annotations": dict(sorted(annotations.items())),
            "env": env,
            "resources": k8s.resources(training.resources),
            "deadline_seconds": training.timeout_minutes * 60,
            # GPU frameworks (PyTorch data loaders, NCCL) need more shared memory than the 64 MiB default.
            "shm": training.resources is not None and training.resources.gpu > 0,
        }


def training_labels(project: ir.Project, model: ir.Model, env: ir.Environment) -> dict[str, str]:
    """The serving objects' labels for ``env`` (built the same way when the model is not deployed
    there), with the instance and component of the training run."""
    deployed = next((d for d in model.deployments if d.environment.name == env.name), None)
    if deployed is not None:
        labels = dict(deployed.labels)
    else:
        labels = {
            **dict(project.labels),
            **dict(model.labels),
            "app.kubernetes.io/name": model.name,
            "app.kubernetes.io/part-of": project.name,
            "app.kubernetes.io/managed-by": "mlgitops",
            f"{LABEL_PREFIX}/model": model.name,
            f"{LABEL_PREFIX}/environment": env.name,
            f"{LABEL_PREFIX}/owner": label_value(model.owner),
        }
    labels["app.kubernetes.io/instance"] = k8s.bounded(f"{model.name}-training", k8s.LABEL_VALUE_MAX)
    labels["app.kubernetes.io/component"] = "training"
    return dict(sorted(labels.items()))
