"""Grafana: a dashboard per model, as a JSON file and as a ConfigMap per environment.

For every model that is deployed and has monitoring (SLOs, drift or an alert route):

* ``<output>/dashboards/<model>.json``: the dashboard (classic JSON model,
  ``schemaVersion`` 39, Grafana >= 10) with an ``environment`` variable offering
  every environment the model is deployed to (the last, usually production, selected),
  for importing by hand or for a Grafana that provisions dashboards from files;
* ``<output>/<env>/<model>/dashboard-configmap.yaml`` (in the kustomization): a
  ConfigMap labelled ``grafana_dashboard: "1"`` for the Grafana sidecar, holding that
  environment's dashboard: the same JSON with the ``environment`` variable fixed to
  the environment, and its own uid and title, so that several environments can share
  one Grafana without replacing each other's dashboard.

Panels (ids fixed per panel, so links and annotations survive recompiles): request rate,
error ratio, latency p50/p95/p99, canary versus stable traffic, replicas, drift per
feature (with drift), remaining error budget and burn rate (with SLOs).  The queries
(targets/monitoring/grafana_queries.py) read the same recording rules and drift gauge as the
alerts.

The layout and look live in ``templates/grafana/dashboard.yaml.j2`` (YAML, turned into
canonical JSON), which a platform team can override like any template.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlgitops import ir
from mlgitops.outputs import DASHBOARDS_DIR
from mlgitops.render.engine import RenderError
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext, compact_json, json_file
from mlgitops.targets.monitoring import grafana_queries

DASHBOARD_TEMPLATE = "dashboard.yaml.j2"
UID_MAX = 40  # Grafana's limit for a dashboard uid
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SIDECAR_LABEL = "grafana_dashboard"
FOLDER_ANNOTATION = "grafana_folder"  # the Grafana Helm chart's sidecar.dashboards.folderAnnotation


class Grafana:
    name = "grafana"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files: list[OutputFile] = []
        for model in project.models:
            if not model.deployments or not has_monitoring(model):
                continue
            # The file's queries follow the environment selected by default (the last one).
            default = model.deployments[-1]
            dashboard = self.dashboard(project, model, default, ctx)
            files.append(
                json_file(f"{project.output}/{DASHBOARDS_DIR}/{model.name}.json", dashboard, model.source)
            )
            for d in model.deployments:
                env = d.environment
                # An environment that serves the model differently (deploymentMode) has other series.
                same = grafana_queries.series(project, model, d) == grafana_queries.series(
                    project, model, default
                )
                own = dashboard if same else self.dashboard(project, model, d, ctx)
                data = {
                    configmap_key(model.name, env.name): compact_json(for_environment(own, model.name, env))
                }
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "configmap.yaml.j2",
                        {
                            "name": f"{model.name}-dashboard",
                            "namespace": env.namespace,
                            "labels": configmap_labels(d),
                            # owner, source and lifecycle: a deprecated model's objects all say so
                            "annotations": dict(
                                sorted(
                                    {
                                        **k8s.training_annotations(model),
                                        FOLDER_ANNOTATION: project.name,
                                    }.items()
                                )
                            ),
                            "data": data,
                        },
                        path=f"{project.output}/{env.name}/{model.name}/dashboard-configmap.yaml",
                        source=model.source,
                        environment=env.name,
                    )
                )
        return files

    def dashboard(
        self, project: ir.Project, model: ir.Model, serving: ir.Deployment, ctx: RenderContext
    ) -> dict[str, Any]:
        """The dashboard over every environment of ``model``, with the series ``serving`` is
        monitored by (the environments' usually agree; see :meth:`render`)."""
        environments = [d.environment for d in model.deployments]
        drift = model.monitoring.drift
        context = {
            "uid": dashboard_uid(model.name),
            "title": f"{model.name} (mlgitops)",
            "description": (
                f"Model {model.name}, generated by mlgitops from {model.source}. Do not edit: "
                "change the spec and compile."
            ),
            "tags": ["mlgitops", model.name],
            "datasource": DATASOURCE,
            "environment": environment_variable(environments, environments[-1]),
            "targets": grafana_queries.targets(project, model, serving, DATASOURCE),
            "latency_panel": grafana_queries.latency_panel(grafana_queries.series(project, model, serving)),
            "slos": bool(model.monitoring.slos),
            "drift": {"threshold": drift.threshold, "method": drift.method} if drift else None,
            "burn": grafana_queries.page_burn_rates(model),
            "runbook": uninterpolated_url(model.monitoring.alerts.runbook_url),
        }
        data = ctx.data(self.name, DASHBOARD_TEMPLATE, context)
        if not isinstance(data, dict):
            raise RenderError(
                "a dashboard template must describe a mapping", f"grafana/{DASHBOARD_TEMPLATE}", None
            )
        check_panel_ids(data)
        try:
            compact_json(data)
        except ValueError as exc:  # .nan or .inf written by an override: JSON has no spelling for them
            raise RenderError(
                f"dashboard is not JSON: {exc}", f"grafana/{DASHBOARD_TEMPLATE}", None
            ) from None
        return data


def uninterpolated_url(url: str | None) -> str | None:
    """``url`` with what Grafana would read as a variable (``$``, ``[[``) percent-encoded: it
    interpolates links too, so a runbook URL holding ``${__user.login}`` would leak the viewer's
    login to that site.  The encoded URL names the same resource."""
    if url is None or not any(c in url for c in "$[]"):
        return url
    parts = urlsplit(url)

    def encode(text: str) -> str:
        return text.replace("$", "%24").replace("[", "%5B").replace("]", "%5D")

    netloc = parts.netloc.replace("$", "%24")  # brackets there are an IPv6 address
    return urlunsplit((parts.scheme, netloc, encode(parts.path), encode(parts.query), encode(parts.fragment)))


def has_monitoring(model: ir.Model) -> bool:
    monitoring = model.monitoring
    return bool(monitoring.slos) or monitoring.drift is not None or monitoring.alerts.route is not None


def dashboard_uid(model: str, environment: str | None = None) -> str:
    """``mlgitops-<model>``, or ``mlgitops-<model>_<env>`` for an environment's copy
    ("_" never occurs in model or environment names, so uids cannot collide);
    hashed down to Grafana's 40 characters when longer."""
    name = f"mlgitops-{model}" + (f"_{environment}" if environment else "")
    return k8s.bounded(name, UID_MAX)


def configmap_key(model: str, environment: str) -> str:
    """The sidecar writes each key as a file of one directory: unique per environment too."""
    return f"{model}-{environment}.json"


def environment_variable(environments: list[ir.Environment], current: ir.Environment) -> dict[str, Any]:
    """A custom variable: text the environment's name, value its namespace."""

    def option(env: ir.Environment) -> dict[str, Any]:
        return {"selected": env == current, "text": env.name, "value": env.namespace}

    return {
        "query": ",".join(f"{env.name} : {env.namespace}" for env in environments),
        "current": option(current),
        "options": [option(env) for env in environments],
    }


def for_environment(dashboard: dict[str, Any], model: str, env: ir.Environment) -> dict[str, Any]:
    """The dashboard of one environment: its own uid and title, the variable fixed to it.

    A copy only along the path that changes (top level, templating, the variable): the rest
    is shared with ``dashboard``, which is only ever serialized, never changed.
    """
    copied = dict(dashboard)
    copied["uid"] = dashboard_uid(model, env.name)
    copied["title"] = f"{model} ({env.name})"
    templating = copied.get("templating")
    if isinstance(templating, dict) and isinstance(templating.get("list"), list):
        variable = environment_variable([env], env)
        copied["templating"] = {
            **templating,
            "list": [
                {**entry, **variable}
                if isinstance(entry, dict) and entry.get("name") == "environment"
                else entry
                for entry in templating["list"]
            ],
        }
    return copied


def configmap_labels(d: ir.Deployment) -> dict[str, str]:
    labels = dict(d.labels)
    labels["app.kubernetes.io/component"] = "dashboard"
    labels[SIDECAR_LABEL] = "1"
    return dict(sorted(labels.items()))


def check_panel_ids(dashboard: dict[str, Any]) -> None:
    """Every panel (rows' panels too) has an integer id of its own: Grafana keys its links,
    annotations and alert bindings on them."""
    panels = [p for p in dashboard.get("panels", []) if isinstance(p, dict)]
    ids: list[Any] = []
    for panel in panels:
        ids.append(panel.get("id"))
        ids += [inner.get("id") for inner in panel.get("panels", []) if isinstance(inner, dict)]
    if any(not isinstance(i, int) or isinstance(i, bool) for i in ids) or len(ids) != len(set(ids)):
        raise RenderError(
            f"dashboard panels need unique integer ids, got {ids}", "grafana/" + DASHBOARD_TEMPLATE, None
        )
