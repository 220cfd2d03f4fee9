"""Drift monitoring: a ``batch/v1`` CronJob per model × environment that runs the drift check.

For every model with ``monitoring.drift``, in every environment it is deployed
to, ``<output>/<env>/<model>/drift-cronjob.yaml`` (listed in the kustomization)
runs the drift-check image on the spec's schedule (UTC).  docs/drift.md is the
container's contract: the variables below, PSI or KS per feature between the
reference data and the live window, and the ``mlgitops_feature_drift`` gauge
(labels model, environment, feature, method) it pushes to a Pushgateway; the
PrometheusRule alerts on that gauge.

The variables every check of an environment shares (environment, namespace, metric,
Pushgateway; the CI trigger of the retraining ones) are written once per environment, by
the ``drift-settings`` target, as the ConfigMaps ``mlgitops-drift`` and
``mlgitops-drift-retrain`` that each container reads with ``envFrom``: at 1,000 models a
CronJob per model × environment repeating them was most of its bytes.  The model's own
settings are the container's arguments (``--model=iris``, one line each), which the
checker takes in place of their variables.  The spec's labels and the annotations are on the
CronJob object; the Jobs and pods it creates carry only the labels that select them
(name, instance, component, model, environment, part-of, managed-by).

The live window is the longest gap the schedule leaves between two runs
(targets/monitoring/schedule.py), so no live request goes unchecked.

With ``drift.retrain`` the container also gets the token (a ``secretKeyRef``,
never a value), its event and the environment's CI trigger to call when a feature
drifts (targets/retrain.py).

The pod runs under the serving Deployment's secure defaults: non-root,
read-only root filesystem with a writable ``/tmp``, no privilege escalation,
every capability dropped, seccomp RuntimeDefault, no service-account token,
requests and limits.  ``concurrencyPolicy: Forbid`` and a deadline keep a slow
check from piling up runs.
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir
from mlgitops.platforms import DEFAULT_DRIFT_IMAGE
from mlgitops.targets import k8s, retrain
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.monitoring.schedule import longest_gap_minutes

METRIC = "mlgitops_feature_drift"  # the PrometheusRule and the dashboard read exactly this gauge
# A check reads at most a few windows of data: an hour is generous, and a hung one must not
# block the next run forever (concurrencyPolicy Forbid skips runs while one is active).
DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 1  # one retry (a flaky read); evictions are not counted (podFailurePolicy)
# A run that could not start on time (controller down) still starts within this, unless
# the next run is due sooner.
STARTING_DEADLINE_SECONDS = 3600


SETTINGS = "mlgitops-drift"  # the environment's ConfigMap of shared variables
RETRAIN_SETTINGS = "mlgitops-drift-retrain"  # the CI trigger, read only by retraining checks
PUSHGATEWAY_URL = "http://prometheus-pushgateway.monitoring.svc:9091"
RETRAIN_COOLDOWN_SECONDS = 86400
# The labels the Jobs and pods keep: what selects them (kubectl, a NetworkPolicy, kube-state-
# metrics' job and pod labels); the rest of the spec's labels are on the CronJob object.
SELECTION_LABELS = (
    "app.kubernetes.io/component",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "mlgitops.dev/environment",
    "mlgitops.dev/model",
)


class Drift:
    name = "drift"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files: list[OutputFile] = []
        for model in project.models:
            drift = model.monitoring.drift
            if drift is None:
                continue
            for d in model.deployments:
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "cronjob.yaml.j2",
                        cronjob_context(project, model, drift, d),
                        path=f"{project.output}/{d.environment.name}/{model.name}/drift-cronjob.yaml",
                        source=model.source,
                        environment=d.environment.name,
                    )
                )
        return files


def cronjob_context(
    project: ir.Project, model: ir.Model, drift: ir.Drift, d: ir.Deployment
) -> dict[str, Any]:
    gap = longest_gap_minutes(drift.schedule)
    # A schedule that fires once at most (e.g. 31 February) never needs a window; a day is harmless.
    window = gap if gap is not None else 24 * 60
    labels = drift_labels(d)
    return {
        "name": k8s.bounded(f"{model.name}-drift", k8s.CRONJOB_NAME_MAX),
        "namespace": d.environment.namespace,
        "labels": labels,
        "pod_labels": {key: value for key, value in labels.items() if key in SELECTION_LABELS},
        "annotations": drift_annotations(model),
        "settings": SETTINGS,
        "retrain_settings": RETRAIN_SETTINGS,
        "schedule": drift.schedule,
        "image": drift.image or DEFAULT_DRIFT_IMAGE,
        "args": [
            f"--{name}={k8s.literal(value)}"
            for name, value in contract(project, model, drift, d, window).items()
        ],
        "retrain_token": retrain_token(drift),
        "starting_deadline_seconds": min(STARTING_DEADLINE_SECONDS, window * 60),
        "deadline_seconds": DEADLINE_SECONDS,
        "backoff_limit": BACKOFF_LIMIT,
        # the hardening every generated pod has (the drift job has no relaxations to write)
        "pod_security": k8s.pod_security(ir.SecurityContext()),
        "container_security": k8s.container_security(ir.SecurityContext()),
    }


def reference(model: ir.Model, drift: ir.Drift) -> ir.DataSource | None:
    """The named reference data source, else the model's first (validation checks the name)."""
    if drift.reference is not None:
        return next((s for s in model.data if s.name == drift.reference), None)
    return model.data[0] if model.data else None


def contract(
    project: ir.Project, model: ir.Model, drift: ir.Drift, d: ir.Deployment, window_minutes: int
) -> dict[str, str]:
    """The model's own settings of the container's contract (docs/drift.md), passed as arguments
    (``--name=value``, each standing for its ``MLGITOPS_*`` variable: one line each instead of a
    variable's two), in a fixed order; the environment's shared ones are in :func:`shared_settings`."""
    args = {
        "model": model.name,
        "model-version": d.version,
        "features": ",".join(drift.features),
        "method": drift.method,
        "threshold": repr(float(drift.threshold)),
        "live-window-seconds": str(window_minutes * 60),
    }
    if drift.current is not None:
        args["current"] = drift.current
    source = reference(model, drift)
    if source is not None:
        args["reference-name"] = source.name
        args["reference"] = source.uri
        if source.version is not None:
            args["reference-version"] = source.version
    if retrains(drift) and project.ci != "gitlab":
        args["retrain-event"] = retrain.event_type(model.name)
    return args


def retrain_token(drift: ir.Drift) -> ir.SecretKeyRef | None:
    """The model's part of the CI trigger besides its event: the token's Secret (the rest is the
    environment's ``mlgitops-drift-retrain``)."""
    return drift.retrain_token if retrains(drift) else None


def retrains(drift: ir.Drift) -> bool:
    return drift.retrain and drift.retrain_token is not None


def shared_settings(env: ir.Environment) -> dict[str, str]:
    """The variables every drift check of ``env`` reads from the ``mlgitops-drift`` ConfigMap."""
    return {
        "MLGITOPS_ENVIRONMENT": env.name,
        "MLGITOPS_NAMESPACE": env.namespace,
        "MLGITOPS_DRIFT_METRIC": METRIC,
        "MLGITOPS_PUSHGATEWAY_URL": PUSHGATEWAY_URL,
    }


def shared_retrain_settings(project: ir.Project) -> dict[str, str]:
    """The CI trigger every retraining check reads from the ``mlgitops-drift-retrain`` ConfigMap."""
    settings = {"MLGITOPS_RETRAIN_PROVIDER": project.ci, "MLGITOPS_RETRAIN_URL": retrain.trigger_url(project)}
    if project.ci == "gitlab":
        # GitHub runs repository_dispatch workflows from the default branch; a GitLab trigger names it.
        settings["MLGITOPS_RETRAIN_REF"] = project.revision
    settings["MLGITOPS_RETRAIN_COOLDOWN_SECONDS"] = str(RETRAIN_COOLDOWN_SECONDS)
    return settings


class DriftSettings:
    """Each environment's shared drift-check variables, once: ``<output>/<env>/drift-settings.yaml``
    (ConfigMap ``mlgitops-drift``) where a model checks drift, and ``drift-retrain.yaml``
    (``mlgitops-drift-retrain``) where one of them retrains."""

    name = "drift-settings"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files: list[OutputFile] = []
        for env in project.environments:
            checks = [
                model.monitoring.drift
                for model in project.models
                if model.monitoring.drift is not None
                and any(d.environment.name == env.name for d in model.deployments)
            ]
            if not checks:
                continue
            files.append(settings_file(project, ctx, env, SETTINGS, shared_settings(env), "drift-settings"))
            if any(retrains(drift) for drift in checks if drift is not None):
                data = shared_retrain_settings(project)
                files.append(settings_file(project, ctx, env, RETRAIN_SETTINGS, data, "drift-retrain"))
        return files


def settings_file(
    project: ir.Project, ctx: RenderContext, env: ir.Environment, name: str, data: dict[str, str], stem: str
) -> OutputFile:
    labels = {
        **dict(project.labels),
        "app.kubernetes.io/component": "drift-check",
        "app.kubernetes.io/managed-by": "mlgitops",
        "app.kubernetes.io/part-of": project.name,
        "mlgitops.dev/environment": env.name,
    }
    context = {"name": name, "namespace": env.namespace, "labels": dict(sorted(labels.items())), "data": data}
    return ctx.yaml_file(
        "drift",
        "configmap.yaml.j2",
        context,
        path=f"{project.output}/{env.name}/{stem}.yaml",
        source="mlgitops.yaml",
        environment=env.name,
    )


def drift_labels(d: ir.Deployment) -> dict[str, str]:
    """The serving objects' labels, with the drift check's own instance and component: the
    instance ``<model>-drift`` keeps its pods out of the serving Service's selector."""
    labels = dict(d.labels)
    labels["app.kubernetes.io/instance"] = k8s.bounded(f"{d.model}-drift", k8s.LABEL_VALUE_MAX)
    labels["app.kubernetes.io/component"] = "drift-check"
    return dict(sorted(labels.items()))


def drift_annotations(model: ir.Model) -> dict[str, str]:
    """The model's owner, source and lifecycle (a deprecated model's objects all say so)."""
    return dict(sorted(k8s.training_annotations(model).items()))
