"""Prometheus targets: scraping, alerts, shared SLI recording rules and promtool tests.

:class:`Prometheus` (per model), in each environment's directory (listed in its kustomization):

* ``servicemonitor.yaml`` (serving: kubernetes): selects the model's Service by the
  labels the Service carries and scrapes its ``http`` port at ``/metrics``, or its
  ``metrics`` port for a server that exports metrics apart (Triton, 8002);
* ``podmonitor.yaml`` (serving: kserve): selects the predictor pods by the labels
  the InferenceService gives them (``predictor.labels``).  Serverless pods are
  scraped on Knative queue-proxy's ``http-usermetric`` port (9091), whose request
  metrics exist for every runtime; raw-deployment pods on the model server's
  metrics port, which KServe's ServingRuntimes announce in the pod annotation
  ``prometheus.kserve.io/port`` (8080 for KServe's Python servers, 8082
  TorchServe, 8002 Triton), falling back to the container's declared port;
* the model's own alerts: the latency bucket check, the burn-rate alerts of an SLO with its own
  ``alerting`` (the others, and the drift alerts, are the environment's shared rules).

:class:`PrometheusSLO` (per project): each environment's shared SLI recording rules
and SLO metadata (:mod:`.prometheus_sli`), its shared burn-rate alerts (:mod:`.prometheus_shapes`)
and drift alerts (:mod:`.drift_shapes`).

``spec.prometheus.format`` picks one delivery: ``operator`` writes PrometheusRule objects
(``<env>/<model>/prometheusrule.yaml``, ``<env>/prometheusrule-slo.yaml``); ``files`` writes
plain rule files (``<output>/prometheus/<env>/<model>.rules.yml`` and ``_slo.rules.yml``,
not Kubernetes objects, in no kustomization) with one promtool unit-test file per environment
(``_slo.rules.test.yml``, see :mod:`.prometheus_tests`).  Templates:
``templates/prometheus/{servicemonitor,podmonitor,prometheusrule}.yaml.j2`` and
``rules.test.yml.j2`` (an override of ``prometheusrule.yaml.j2`` changes the plain rule files
too: they are its ``spec.groups``).
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir
from mlgitops.outputs import PROMETHEUS_DIR
from mlgitops.render.canonical import canonical_yaml, parse_rendered
from mlgitops.render.engine import RenderError
from mlgitops.targets import k8s
from mlgitops.targets.base import HEADER, OutputFile, RenderContext
from mlgitops.targets.monitoring import (
    prometheus_rules,
    prometheus_shapes,
    prometheus_sli,
    prometheus_tests,
)
from mlgitops.targets.monitoring.metricmap import MODEL_LABEL, slo_series

SLO_RULES = "_slo"  # file stem of the shared rules; "_" keeps it apart from model names
# The relabelling that gives every scraped series metricmap.MODEL_LABEL, from the label mlgitops
# puts on each workload's pods and Services.
_MODEL_SOURCE = {
    "pod": "__meta_kubernetes_pod_label_mlgitops_dev_model",
    "service": "__meta_kubernetes_service_label_mlgitops_dev_model",
}
QUEUE_PROXY_METRICS_PORT = "http-usermetric"  # Knative queue-proxy's user metrics, containerPort 9091
METRICS_PATH = "/metrics"
# Raw deployment: scrape the model server container on the port its ServingRuntime announces.
_RAW_RELABELINGS: list[dict[str, Any]] = [
    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "kserve-container"},
    {
        "action": "replace",
        "sourceLabels": [
            "__meta_kubernetes_pod_annotation_prometheus_kserve_io_port",
            "__meta_kubernetes_pod_ip",
        ],
        "regex": "([0-9]+);([0-9.]+)",
        "replacement": "$2:$1",
        "targetLabel": "__address__",
    },
    {
        "action": "replace",
        "sourceLabels": [
            "__meta_kubernetes_pod_annotation_prometheus_kserve_io_port",
            "__meta_kubernetes_pod_ip",
        ],
        "regex": "([0-9]+);(.*:.*)",
        "replacement": "[$2]:$1",
        "targetLabel": "__address__",
    },
    {
        "action": "replace",
        "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_kserve_io_path"],
        "regex": "(/.*)",
        "targetLabel": "__metrics_path__",
    },
]


def escape(text: str) -> str:
    """Prometheus expands alert labels and annotations as Go templates: ``{{`` prints itself as
    ``{{ "{{" }}`` (one pass, so the replacement is never escaped again)."""
    return text.replace("{{", '{{ "{{" }}')


def api_version(project: ir.Project) -> str:
    return f"{project.prometheus.api_group}/v1"


class Prometheus:
    name = "prometheus"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        for model in project.models:
            for d in model.deployments:
                files.append(self._monitor(project, d, model.monitoring, ctx))
                if ctx.paths_only:  # the rule file's path alone: whether it has rules, not which
                    if prometheus_rules.has_own_rules(model):
                        outline = rule_file(project, ctx, d.environment, d.model, [], d.source, d.labels, d)
                        files.append(outline)
                    continue
                # one group per SLO, and the drift ones (tests/test_diff.py: outlines have the same paths)
                series = slo_series(project.serving, d, model.monitoring.metrics)
                groups = prometheus_rules.groups(model, d, series)
                data = [{"name": g.name, "rules": g.rules} for g in groups if g.rules]
                if data:
                    files.append(rule_file(project, ctx, d.environment, d.model, data, d.source, d.labels, d))
        return files

    def _monitor(
        self, project: ir.Project, d: ir.Deployment, monitoring: ir.Monitoring, ctx: RenderContext
    ) -> OutputFile:
        instance = f"{d.model}-{d.environment.name}"
        if project.serving == "kubernetes":
            # The labels serving/kubernetes.py puts on the Service (tests/test_monitoring_selectors.py).
            template, filename = "servicemonitor.yaml.j2", "servicemonitor.yaml"
            selector = {"app.kubernetes.io/instance": instance, "app.kubernetes.io/name": d.model}
            port = "http" if k8s.metrics_port(d.serving) is None else "metrics"
            endpoints: list[dict[str, Any]] = [{"port": port, "path": METRICS_PATH}]
        else:
            template, filename = "podmonitor.yaml.j2", "podmonitor.yaml"
            selector = {"app.kubernetes.io/instance": instance, k8s.COMPONENT_LABEL: "predictor"}
            if d.serving.deployment_mode == "standard":
                endpoints = [{"path": METRICS_PATH, "relabelings": _RAW_RELABELINGS}]
            else:
                endpoints = [{"port": QUEUE_PROXY_METRICS_PORT, "path": METRICS_PATH}]
        # monitoring.scrape: the model's own port and path (resolve checks the port exists, MLG339)
        if monitoring.scrape_port is not None:
            endpoints = [{"port": monitoring.scrape_port, "path": METRICS_PATH}]
        if monitoring.scrape_path is not None:
            endpoints = [{**endpoint, "path": monitoring.scrape_path} for endpoint in endpoints]
        source = _MODEL_SOURCE["service" if project.serving == "kubernetes" else "pod"]
        model_label = {"action": "replace", "sourceLabels": [source], "targetLabel": MODEL_LABEL}
        endpoints = [
            {**endpoint, "relabelings": [*endpoint.get("relabelings", []), model_label]}
            for endpoint in endpoints
        ]
        context = {
            "api_version": api_version(project),
            "d": d,
            "labels": dict(d.labels),
            "selector": selector,
            "endpoints": endpoints,
            "as_dict": dict,
        }
        return ctx.yaml_file(
            self.name,
            template,
            context,
            path=f"{project.output}/{d.environment.name}/{d.model}/{filename}",
            source=d.source,
            environment=d.environment.name,
        )


class PrometheusSLO:
    """Each environment's shared SLI recording rules and SLO metadata, and (format ``files``) the
    promtool tests of every rule family and alert shape of the environment."""

    name = "prometheus-slo"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        source = "mlgitops.yaml"
        for env in project.environments:
            slis = prometheus_sli.environment_members(project, env)
            shared = prometheus_sli.shared_groups(env, slis) + prometheus_shapes.groups(project, env, slis)
            if not shared:
                continue
            data = [{"name": g.name, "rules": g.rules} for g in shared]
            files.append(rule_file(project, ctx, env, SLO_RULES, data, source, project.labels, None))
            if project.prometheus.format == "files":
                suite = prometheus_tests.environment_suite(
                    project, env, slis, [g.name for g in shared], SLO_RULES
                )
                files.append(
                    ctx.yaml_file(
                        "prometheus",
                        "rules.test.yml.j2",
                        {"suite": suite},
                        path=f"{project.output}/{PROMETHEUS_DIR}/{env.name}/{SLO_RULES}.rules.test.yml",
                        source=source,
                    )
                )
        return files


# Argo CD applies client-side by default, which copies the whole object into the
# last-applied-configuration annotation; annotations may hold 256 KiB in all, and an
# environment's shared rules pass that from a few hundred models on ("Too long: must have at
# most 262144 bytes"). Server-side apply keeps no such copy. Flux applies server-side already.
SERVER_SIDE_APPLY = {"argocd.argoproj.io/sync-options": "ServerSideApply=true"}


def _shared_annotations(project: ir.Project) -> dict[str, str]:
    return SERVER_SIDE_APPLY if project.gitops == "argocd" else {}


def rule_file(
    project: ir.Project,
    ctx: RenderContext,
    env: ir.Environment,
    stem: str,
    groups: list[dict[str, Any]],
    source: str,
    labels: tuple[tuple[str, str], ...],
    d: ir.Deployment | None,
) -> OutputFile:
    """A PrometheusRule in ``env`` (format ``operator``), or the plain rule file of its groups."""
    plain = project.prometheus.format == "files"
    if plain:
        path = f"{project.output}/{PROMETHEUS_DIR}/{env.name}/{stem}.rules.yml"
    elif d is not None:
        path = f"{project.output}/{env.name}/{stem}/prometheusrule.yaml"
    else:
        path = f"{project.output}/{env.name}/prometheusrule-slo.yaml"
    environment = None if plain else env.name
    if ctx.paths_only:
        return OutputFile(path, "", source, environment)
    context = {
        "api_version": api_version(project),
        "name": d.name if d is not None else "mlgitops-slo",
        "namespace": env.namespace,
        "labels": dict(labels),
        "annotations": d.object_annotations if d is not None else _shared_annotations(project),
        "groups": groups,
        "as_dict": dict,
    }
    template = "prometheus/prometheusrule.yaml.j2"
    manifest_text = ctx.engine("prometheus", escape).render_yaml(template, context)
    text = _plain_rules(manifest_text, template) if plain else manifest_text
    return OutputFile(path, HEADER.format(source=source) + text, source, environment)


def _plain_rules(manifest_text: str, template: str) -> str:
    """The plain rule file: the PrometheusRule's ``spec.groups``, one indentation level out.

    When ``spec`` is the manifest's last key and holds only ``groups`` (what the built-in template
    writes: after the marker, every line is indented under ``groups``), the groups are cut from
    the text already written instead of written again: they are the bulk of the monitoring
    output. Anything else (an override template's manifest) is parsed and written afresh.
    """
    marker = "\nspec:\n  groups:\n"
    _, found, body = manifest_text.partition(marker)
    lines = body.splitlines(True)
    if found and all(line.startswith("    ") or line == "\n" for line in lines):
        return "groups:\n" + "".join(line[2:] if line.startswith("  ") else line for line in lines)
    documents = parse_rendered(manifest_text)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise RenderError("template must produce one YAML mapping document", template, None)
    return canonical_yaml([{"groups": documents[0]["spec"]["groups"]}])
