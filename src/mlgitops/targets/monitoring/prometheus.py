"""Prometheus target: scraping, SLO and drift rules, and promtool tests, per model × environment.

Per deployment, in the environment's directory (listed in its kustomization):

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
* ``prometheusrule.yaml`` when the model has SLOs or drift monitoring.

The PrometheusRule's groups also go, for Prometheus without the operator, into
``<output>/prometheus/<env>/<model>.rules.yml`` with a promtool unit-test file
next to it (``<model>.rules.test.yml``; see :mod:`.prometheus_tests`).  Those are
not Kubernetes objects and are not in any kustomization.  Templates:
``templates/prometheus/{servicemonitor,podmonitor,prometheusrule}.yaml.j2`` and
``rules.test.yml.j2`` (an override of ``prometheusrule.yaml.j2`` changes the plain
rule file too).
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir
from mlgitops.outputs import PROMETHEUS_DIR
from mlgitops.render.canonical import canonical_yaml
from mlgitops.render.engine import RenderError
from mlgitops.targets import k8s
from mlgitops.targets.base import HEADER, OutputFile, RenderContext
from mlgitops.targets.monitoring import drift_rules, prometheus_rules, prometheus_tests
from mlgitops.targets.monitoring.metricmap import slo_series

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


class Prometheus:
    name = "prometheus"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        for model in project.models:
            for d in model.deployments:
                files.append(self._monitor(project, d, model.monitoring, ctx))
                series = slo_series(
                    project.serving, d, model.monitoring.metrics, k8s.workload_names(project, d)
                )
                groups = prometheus_rules.groups(model, d, series) + drift_rules.groups(model, d)
                if groups:
                    files += self._rules(project, d, groups, ctx, drift_rules.tests(model, d))
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
        context = {
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

    def _rules(
        self,
        project: ir.Project,
        d: ir.Deployment,
        groups: list[prometheus_rules.Group],
        ctx: RenderContext,
        more_tests: list[dict[str, Any]],
    ) -> list[OutputFile]:
        env = d.environment.name
        data = [{"name": g.name, "rules": g.rules} for g in groups]
        context = {"d": d, "labels": dict(d.labels), "groups": data, "as_dict": dict}
        template = f"{self.name}/prometheusrule.yaml.j2"
        documents = ctx.engine(self.name, escape).render_data(template, context)
        if len(documents) != 1 or not isinstance(documents[0], dict):
            raise RenderError("template must produce one YAML mapping document", template, None)
        manifest = documents[0]
        # The plain rule file is the PrometheusRule's own groups (rendered once: they are the bulk of
        # the output, and the two can never differ).
        plain = f"{project.output}/{PROMETHEUS_DIR}/{env}/{d.model}.rules.yml"
        header = HEADER.format(source=d.source)
        tests = prometheus_tests.test_file(plain.rsplit("/", 1)[1], groups)
        tests["tests"] += more_tests
        manifest_text = canonical_yaml([manifest])
        return [
            OutputFile(
                f"{project.output}/{env}/{d.model}/prometheusrule.yaml", header + manifest_text, d.source, env
            ),
            OutputFile(plain, header + _plain_rules(manifest, manifest_text), d.source),
            ctx.yaml_file(
                self.name,
                "rules.test.yml.j2",
                {"suite": tests},
                path=f"{plain.removesuffix('.yml')}.test.yml",
                source=d.source,
            ),
        ]


def _plain_rules(manifest: dict[str, Any], manifest_text: str) -> str:
    """The plain rule file: the PrometheusRule's ``spec.groups``, one indentation level out.

    When ``spec`` is the manifest's last key and holds only ``groups`` (what the built-in template
    writes), the groups are cut from the text already written instead of written again: they are
    the bulk of the monitoring output. Anything else is written afresh.
    """
    spec = manifest.get("spec")
    marker = "\nspec:\n  groups:\n"
    if (
        isinstance(spec, dict)
        and list(spec) == ["groups"]
        and list(manifest)[-1] == "spec"
        and marker in manifest_text
    ):
        body = manifest_text.split(marker, 1)[1]
        return "groups:\n" + "".join(
            line[2:] if line.startswith("  ") else line for line in body.splitlines(True)
        )
    return canonical_yaml([{"groups": manifest["spec"]["groups"]}])
