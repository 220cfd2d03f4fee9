"""Targets: one backend per output family member, behind one small Protocol.

A target reads only the IR and returns :class:`OutputFile` objects.  The
registry is an explicit dict; :func:`selected` picks the targets a project
asks for.  Adding a target: write a module with a class satisfying
:class:`Target`, put its templates in ``templates/<name>/``, add it to
:data:`REGISTRY` and to :func:`selected`.
"""

from __future__ import annotations

from typing import Protocol

from mlgitops import ir
from mlgitops.targets.base import OutputFile, RenderContext


class Target(Protocol):
    """A backend. ``scope`` is "model" when each model's files depend only on that model
    (such targets render in parallel chunks of models), "project" otherwise."""

    name: str
    scope: str

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]: ...


def registry() -> dict[str, Target]:
    from mlgitops.targets.ci.fingerprint import TrainingFingerprint
    from mlgitops.targets.ci.github import GitHub, GitHubTraining
    from mlgitops.targets.ci.gitlab import GitLab, GitLabTraining
    from mlgitops.targets.ci.settings_file import SettingsChecklist
    from mlgitops.targets.ci.training import Training
    from mlgitops.targets.gitops.argocd import ArgoCD
    from mlgitops.targets.gitops.flux import Flux
    from mlgitops.targets.monitoring.drift import Drift, DriftSettings
    from mlgitops.targets.monitoring.grafana import Grafana, GrafanaModels
    from mlgitops.targets.monitoring.prometheus import Prometheus, PrometheusSLO
    from mlgitops.targets.serving.kserve import KServe
    from mlgitops.targets.serving.kserve_runtimes import KServeRuntimes
    from mlgitops.targets.serving.kubernetes import Kubernetes
    from mlgitops.targets.serving.routes import GatewayRoutes, IstioRoutes

    targets: list[Target] = [
        KServe(),
        KServeRuntimes(),
        Kubernetes(),
        GatewayRoutes(),
        IstioRoutes(),
        ArgoCD(),
        Flux(),
        GitHub(),
        GitHubTraining(),
        GitLab(),
        GitLabTraining(),
        Training(),
        TrainingFingerprint(),
        SettingsChecklist(),
    ]
    targets += [Drift(), DriftSettings(), Grafana(), GrafanaModels()]
    targets += [Prometheus(), PrometheusSLO()]
    return {target.name: target for target in targets}


def selected(project: ir.Project) -> list[str]:
    """Names of the targets that run for ``project``, in a fixed order.

    ``training`` runs for every project: it renders only for models trained by ``runner: kubernetes``;
    ``training-inputs`` (the training fingerprints the CI pipelines start on) for models with training;
    ``ci-settings`` (``<output>/ci/SETTINGS.md``, the repository settings the pipelines need) always.
    The CI system's project target (``github``, ``gitlab``) writes the shared pipelines, its
    ``-train`` target (``github-train``, ``gitlab-train``) each model's own small file.
    ``drift`` and ``grafana`` too: they render only for models with drift monitoring, or any monitoring;
    ``drift-settings`` (each environment's ConfigMaps of the variables its drift checks share) likewise;
    ``grafana-models`` (a dashboard per model) only when ``spec.grafana.perModelDashboards`` asks.
    ``kserve-runtimes`` writes the runtimes of ``spec.runtimes`` on KServe (nothing without any).
    ``gateway`` or ``istio`` renders the routes when ``spec.traffic`` chooses that router.
    ``prometheus`` scrapes every deployment and adds alerts for models with SLOs or drift monitoring;
    ``prometheus-slo`` writes each environment's shared SLI recording rules and SLO metadata.
    """
    ci = [project.ci, f"{project.ci}-train", "training-inputs", "ci-settings"]
    dashboards = ["grafana", "grafana-models"] if project.grafana.per_model_dashboards else ["grafana"]
    routes = {"gateway-api": ["gateway"], "istio": ["istio"]}.get(
        project.traffic.router if project.traffic else "", []
    )
    monitoring = [*dashboards, "prometheus", "prometheus-slo"]
    serving = [project.serving, "kserve-runtimes"] if project.serving == "kserve" else [project.serving]
    return [*serving, *routes, "training", project.gitops, *ci, "drift", "drift-settings", *monitoring]


__all__ = ["OutputFile", "RenderContext", "Target", "registry", "selected"]
