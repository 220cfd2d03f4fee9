"""Drift monitoring: a ``batch/v1`` CronJob per model × environment that runs the drift check.

For every model with ``monitoring.drift``, in every environment it is deployed
to, ``<output>/<env>/<model>/drift-cronjob.yaml`` (listed in the kustomization)
runs the drift-check image on the spec's schedule (UTC).  docs/drift.md is the
container's contract: the variables below, PSI or KS per feature between the
reference data and the live window, and the ``mlgitops_feature_drift`` gauge
(labels model, environment, feature, method) it pushes to a Pushgateway; the
PrometheusRule alerts on that gauge.

The live window is the longest gap the schedule leaves between two runs
(targets/monitoring/schedule.py), so no live request goes unchecked.

With ``drift.retrain`` the container also gets the token (a ``secretKeyRef``,
never a value) and the CI trigger to call when a feature drifts
(targets/retrain.py).

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
from mlgitops.targets.monitoring.schedule import duration, longest_gap_minutes

METRIC = "mlgitops_feature_drift"  # the PrometheusRule and the dashboard read exactly this gauge
# A check reads at most a few windows of data: an hour is generous, and a hung one must not
# block the next run forever (concurrencyPolicy Forbid skips runs while one is active).
DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 1  # one retry (a flaky read); evictions are not counted (podFailurePolicy)
# A run that could not start on time (controller down) still starts within this, unless
# the next run is due sooner.
STARTING_DEADLINE_SECONDS = 3600


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
    return {
        "name": k8s.bounded(f"{model.name}-drift", k8s.CRONJOB_NAME_MAX),
        "namespace": d.environment.namespace,
        "labels": drift_labels(d),
        "annotations": drift_annotations(model),
        "schedule": drift.schedule,
        "image": drift.image or DEFAULT_DRIFT_IMAGE,
        "env": contract(model, drift, d, window),
        "retrain": retrain_settings(project, model, drift),
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


def contract(model: ir.Model, drift: ir.Drift, d: ir.Deployment, window_minutes: int) -> dict[str, str]:
    """The plain variables of the container's contract (docs/drift.md), in a fixed order."""
    env = {
        "MLGITOPS_MODEL": model.name,
        "MLGITOPS_ENVIRONMENT": d.environment.name,
        "MLGITOPS_NAMESPACE": d.environment.namespace,
        "MLGITOPS_MODEL_VERSION": d.version,
        "MLGITOPS_FEATURES": ",".join(drift.features),
        "MLGITOPS_DRIFT_METHOD": drift.method,
        "MLGITOPS_DRIFT_THRESHOLD": repr(float(drift.threshold)),
        "MLGITOPS_DRIFT_METRIC": METRIC,
        "MLGITOPS_LIVE_WINDOW": duration(window_minutes),
        "MLGITOPS_LIVE_WINDOW_SECONDS": str(window_minutes * 60),
    }
    if drift.current is not None:
        env["MLGITOPS_CURRENT_URI"] = drift.current
    source = reference(model, drift)
    if source is not None:
        env["MLGITOPS_REFERENCE_NAME"] = source.name
        env["MLGITOPS_REFERENCE_URI"] = source.uri
        if source.version is not None:
            env["MLGITOPS_REFERENCE_VERSION"] = source.version
    return env


def retrain_settings(project: ir.Project, model: ir.Model, drift: ir.Drift) -> dict[str, Any] | None:
    if not drift.retrain or drift.retrain_token is None:
        return None
    gitlab = project.ci == "gitlab"
    return {
        "provider": project.ci,
        "url": retrain.trigger_url(project),
        "event": None if gitlab else retrain.event_type(model.name),
        # GitHub runs repository_dispatch workflows from the default branch; a GitLab trigger names it.
        "ref": project.revision if gitlab else None,
        "token": drift.retrain_token,
    }


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
