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
(``<env>/<model>/prometheusrule.yaml``, ``<env>/prometheusrule-slo-<group>.yaml``: one object per
shared group, :func:`shared_parts`); ``files`` writes
plain rule files (``<output>/prometheus/<env>/<model>.rules.yml`` and ``_slo.rules.yml``,
not Kubernetes objects, in no kustomization) with promtool unit tests per rule family and alert
shape: a file per model they use (``_slo-test-<model>.rules.test.yml``, see
:mod:`.prometheus_tests`), loading the shared rules built for that model alone
(``_slo-test-<model>.slice-rules.yml``, :mod:`.prometheus_test_sample`).  Templates:
``templates/prometheus/{servicemonitor,podmonitor,prometheusrule}.yaml.j2`` and
``rules.test.yml.j2`` (an override of ``prometheusrule.yaml.j2`` changes the plain rule files
too: they are its ``spec.groups``).
"""

from __future__ import annotations

import dataclasses
import functools
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
    prometheus_test_sample,
    prometheus_tests,
)
from mlgitops.targets.monitoring.metricmap import MODEL_LABEL, slo_series
from mlgitops.targets.monitoring.prometheus_sli import SharedGroup, SLIMember

SLO_RULES = "_slo"  # file stem of the shared rules; "_" keeps it apart from model names
# promtool tests: "<TESTS_STEM><model>.rules.test.yml" loads "<TESTS_STEM><model><SLICE_SUFFIX>", the
# shared rules built for that model alone (not "*.rules.yml", which Prometheus would load).
TESTS_STEM = f"{SLO_RULES}-test-"
SLICE_SUFFIX = ".slice-rules.yml"
# The relabelling that gives every scraped series metricmap.MODEL_LABEL, from the label mlgitops
# puts on each workload's pods and Services.
_MODEL_SOURCE = {
    "pod": "__meta_kubernetes_pod_label_mlgitops_dev_model",
    "service": "__meta_kubernetes_service_label_mlgitops_dev_model",
}
QUEUE_PROXY_METRICS_PORT = "http-usermetric"  # Knative queue-proxy's user metrics, containerPort 9091
# What mlgitops chooses is left out where it is the prometheus-operator's default (a relabelling's
# action "replace"; an endpoint's path, left to Prometheus' "/metrics"): 3,000 monitors at 1,000
# models.  A value the user writes (monitoring.scrape.path) is written, whatever it is.
# Raw deployment: scrape the model server container on the port its ServingRuntime announces.
_RAW_RELABELINGS: list[dict[str, Any]] = [
    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "kserve-container"},
    {
        "sourceLabels": [
            "__meta_kubernetes_pod_annotation_prometheus_kserve_io_port",
            "__meta_kubernetes_pod_ip",
        ],
        "regex": "([0-9]+);([0-9.]+)",
        "replacement": "$2:$1",
        "targetLabel": "__address__",
    },
    {
        "sourceLabels": [
            "__meta_kubernetes_pod_annotation_prometheus_kserve_io_port",
            "__meta_kubernetes_pod_ip",
        ],
        "regex": "([0-9]+);(.*:.*)",
        "replacement": "[$2]:$1",
        "targetLabel": "__address__",
    },
    {
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
                # a group per SLO with alerts of its own (tests/test_diff.py: outlines have the same paths)
                if not prometheus_rules.has_own_rules(model):
                    continue
                series = slo_series(project.serving, d, model.monitoring.metrics)
                groups = prometheus_rules.own_groups(model, d, series)
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
            endpoints: list[dict[str, Any]] = [{"port": port}]
        else:
            template, filename = "podmonitor.yaml.j2", "podmonitor.yaml"
            selector = {"app.kubernetes.io/instance": instance, k8s.COMPONENT_LABEL: "predictor"}
            if d.serving.deployment_mode == "standard":
                endpoints = [{"relabelings": _RAW_RELABELINGS}]
            else:
                endpoints = [{"port": QUEUE_PROXY_METRICS_PORT}]
        # monitoring.scrape: the model's own port and path (resolve checks the port exists, MLG339)
        if monitoring.scrape_port is not None:
            endpoints = [{"port": monitoring.scrape_port}]
        if monitoring.scrape_path is not None:
            endpoints = [{**endpoint, "path": monitoring.scrape_path} for endpoint in endpoints]
        source = _MODEL_SOURCE["service" if project.serving == "kubernetes" else "pod"]
        model_label = {"sourceLabels": [source], "targetLabel": MODEL_LABEL}
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
            shared = _shared_groups(env, project, slis)
            if not shared:
                continue
            data = [{"name": g.name, "rules": g.rules} for g in shared]
            if project.prometheus.format == "operator":
                for part, groups in shared_parts(data):
                    files.append(rule_file(project, ctx, env, part, groups, source, project.labels, None))
            else:
                files.append(rule_file(project, ctx, env, SLO_RULES, data, source, project.labels, None))
            if project.prometheus.format == "files":
                files += _test_files(project, ctx, env, slis)
        return files


def _test_files(
    project: ir.Project, ctx: RenderContext, env: ir.Environment, slis: list[SLIMember]
) -> list[OutputFile]:
    """Per model the tests use, its promtool test file and the shared rules built for it alone by
    the builder of the real ones (:mod:`.prometheus_test_sample`)."""
    files = []
    folder = f"{project.output}/{PROMETHEUS_DIR}/{env.name}"
    for unit in prometheus_test_sample.choose(project, env, slis, functools.partial(_shared_groups, env)):
        stem = f"{TESTS_STEM}{unit.model.name}"
        data = [{"name": g.name, "rules": g.rules} for g in unit.groups]
        rules = rule_file(project, ctx, env, stem, data, "mlgitops.yaml", project.labels, None)
        files.append(dataclasses.replace(rules, path=f"{folder}/{stem}{SLICE_SUFFIX}"))
        suite = prometheus_tests.slice_suite(project, unit, f"{stem}{SLICE_SUFFIX}")
        files.append(
            ctx.yaml_file(
                "prometheus",
                "rules.test.yml.j2",
                {"suite": suite},
                path=f"{folder}/{stem}.rules.test.yml",
                source="mlgitops.yaml",
            )
        )
    return files


def _shared_groups(env: ir.Environment, project: ir.Project, slis: list[SLIMember]) -> list[SharedGroup]:
    """The shared rules of ``env`` for ``project``'s models and their SLOs ``slis`` (all of them, or
    the sample the promtool tests load)."""
    return prometheus_sli.shared_groups(env, slis) + prometheus_shapes.groups(project, env, slis)


# etcd refuses an object over 1.5 MiB (and Argo CD keeps objects in annotations and caches); an
# environment's shared rules pass that at about 1,500 models, so they are cut into several
# PrometheusRule objects, each kept below this many bytes of rule text (estimated by
# _estimated_size, which overcounts the YAML's indentation).
OBJECT_BUDGET = 900_000


def shared_parts(
    groups: list[dict[str, Any]], budget: int = OBJECT_BUDGET
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The shared groups as PrometheusRule objects: one per group (its name's last part, e.g.
    ``1-metadata``), and a group larger than ``budget`` cut between rules into ``1-metadata``,
    ``1-metadata-2``, … (their groups named alike: each object is a rule file of its own for the
    operator).  A rule is never cut: a packed metadata union, about 220 bytes an SLO, is several
    rules of at most ``packing.PACKED_RULE_BUDGET`` bytes each past about 1,100 SLOs."""
    parts = []
    for group in groups:
        stem = str(group["name"]).rsplit("/", 1)[-1]
        chunks: list[list[dict[str, Any]]] = [[]]
        size = 0
        for rule in group["rules"]:
            rule_size = _estimated_size(rule)
            if chunks[-1] and size + rule_size > budget:
                chunks.append([])
                size = 0
            chunks[-1].append(rule)
            size += rule_size
        for index, rules in enumerate(chunks, start=1):
            suffix = "" if index == 1 else f"-{index}"
            parts.append((f"{stem}{suffix}", [{"name": f"{group['name']}{suffix}", "rules": rules}]))
    return parts


def _estimated_size(rule: dict[str, Any]) -> int:
    """An upper bound of the bytes ``rule`` takes in the object: its texts, and for every line
    the indentation the YAML block scalar adds (up to 12 spaces) and a margin for quoting."""
    texts = [str(v) for v in rule.values() if not isinstance(v, dict)]
    texts += [f"{k}{v}" for v in rule.values() if isinstance(v, dict) for k, v in v.items()]
    return sum(len(t.encode()) + 16 * (t.count("\n") + 1) for t in texts) + 64


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
        path = f"{project.output}/{env.name}/prometheusrule-slo-{stem}.yaml"
    environment = None if plain else env.name
    if ctx.paths_only:
        return OutputFile(path, "", source, environment)
    context = {
        "api_version": api_version(project),
        "name": d.name if d is not None else f"mlgitops-slo-{stem}",
        "namespace": env.namespace,
        "labels": dict(labels),
        "annotations": d.object_annotations if d is not None else _shared_annotations(project),
        "groups": groups,
        "as_dict": dict,
    }
    template = "prometheus/prometheusrule.yaml.j2"
    manifest_text = ctx.yaml_text(
        "prometheus", "prometheusrule.yaml.j2", context, environment, escape, path=path
    )
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
