"""The PromQL behind the project's Grafana dashboards (targets/monitoring/grafana.py).

The dashboards are generic: no query names a model.  They read

* the shared SLI and SLO metadata series the Prometheus rules record for every SLO
  (:data:`SHARED_SERIES`, the series contract of issue 14; docs/monitoring.md), each with the
  labels ``model``, ``environment``, ``namespace`` and ``slo``, and the drift gauge;
* series the scraped targets export themselves (:data:`SCRAPED_SERIES`): kube-state-metrics,
  and the model servers' own metrics, read only in the rows of a runtime the project uses.

Template variables choose what they show: ``environment``, ``model`` and ``slo`` read their
values from the SLO metadata series (``label_values(mlgitops_slo:objective:ratio, model)``),
and a hidden ``namespace`` variable gives the namespace of the chosen model in the chosen
environment for the series that carry no ``environment`` label.
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir, platforms
from mlgitops.targets.monitoring.prometheus_rules import DRIFT_METRIC

# The series contract (the rules produce them; the lead points this at the rules module at merge).
TOTAL = "mlgitops_sli:total:rate5m"
BAD = "mlgitops_sli:bad:rate5m"
OBJECTIVE = "mlgitops_slo:objective:ratio"
ERROR_BUDGET = "mlgitops_slo:error_budget:ratio"
WINDOW_DAYS = "mlgitops_slo:window:days"
BURN_RATE = "mlgitops_slo:current_burn_rate:ratio"
BUDGET_REMAINING = "mlgitops_slo:error_budget_remaining:ratio"
SHARED_SERIES = frozenset(
    {TOTAL, BAD, OBJECTIVE, ERROR_BUDGET, WINDOW_DAYS, BURN_RATE, BUDGET_REMAINING, DRIFT_METRIC}
)

# Series the scraped targets export, by who exports them (names from the vendors' docs).
KUBE_STATE_METRICS = ("kube_deployment_status_replicas_available", "kube_deployment_spec_replicas")
# Triton: https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/user_guide/metrics.html
TRITON_SERIES = (
    "nv_inference_request_success",
    "nv_inference_queue_duration_us",
    "nv_inference_compute_infer_duration_us",
    "nv_gpu_utilization",
    "nv_gpu_memory_used_bytes",
)
# vLLM (KServe's Hugging Face server runs it for generative models): https://docs.vllm.ai/en/stable/usage/metrics/
VLLM_SERIES = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
)
SCRAPED_SERIES = frozenset({*KUBE_STATE_METRICS, *TRITON_SERIES, *VLLM_SERIES, "ALERTS"})

# Runtime families with rows of their own, and the runtimes that belong to each.
RUNTIME_ROWS = {"triton": platforms.TRITON_RUNTIMES, "vllm": frozenset({"huggingface"})}

ENVIRONMENT = 'environment="$environment"'
MODEL = 'model=~"$model"'  # "=~": the overview's model variable takes several values
SLO = 'slo=~"$slo"'
SCOPE = f"{ENVIRONMENT}, {MODEL}"
# The pods of the chosen model: plain Kubernetes "<model>[-canary]-<rs>-<pod>", KServe raw
# "<model>-predictor-<rs>-<pod>", KServe serverless "<model>-predictor-<rev>-deployment-<rs>-<pod>".
PODS = 'namespace="$namespace", pod=~"$model(-canary)?(-predictor(-[0-9]+-deployment)?)?-[a-z0-9]+-[a-z0-9]+"'
RATE = "5m"


def runtime_rows(models: tuple[ir.Model, ...]) -> list[str]:
    """The runtime families some deployment of ``models`` serves with, in a fixed order."""
    runtimes = {d.serving.runtime for m in models for d in m.deployments}
    return [family for family, members in RUNTIME_ROWS.items() if runtimes & members]


def has_drift(models: tuple[ir.Model, ...]) -> bool:
    return any(m.monitoring.drift is not None for m in models)


def target(
    ref: int, expr: str, legend: str, datasource: dict[str, str], instant: bool = False
) -> dict[str, Any]:
    return {
        "refId": chr(ord("A") + ref),
        "datasource": datasource,
        "expr": expr,
        "legendFormat": legend,
        "range": not instant,
        "instant": instant,
    }


def metadata_variable(
    name: str, label: str, matchers: str, datasource: dict[str, str], multi: bool
) -> dict[str, Any]:
    """A query variable offering the values of ``name`` in the SLO metadata series."""
    selector = f"{OBJECTIVE}{{{matchers}}}" if matchers else OBJECTIVE
    query = f"label_values({selector}, {name})"
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": datasource,
        "definition": query,
        "query": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": multi,
        "options": [],
        "hide": 0,
        "regex": "",
        "skipUrlSync": False,
    }


def variables(datasource: dict[str, str], several_models: bool) -> dict[str, dict[str, Any]]:
    """``environment``, ``model``, ``slo`` and the hidden ``namespace``, each narrowed by the ones before."""
    namespace = metadata_variable("namespace", "Namespace", SCOPE, datasource, multi=False)
    namespace["hide"] = 2
    return {
        "environment": metadata_variable("environment", "Environment", "", datasource, multi=False),
        "model": metadata_variable("model", "Model", ENVIRONMENT, datasource, multi=several_models),
        "slo": metadata_variable("slo", "SLO", SCOPE, datasource, multi=True),
        "namespace": namespace,
    }


def slo_queries(datasource: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The panels both dashboards share, over the chosen models and SLOs."""
    chosen = f"{SCOPE}, {SLO}"
    by = "by (model, slo)"
    return {
        "budget_remaining": [
            target(0, f"{BUDGET_REMAINING}{{{chosen}}}", "{{model}} {{slo}}", datasource, instant=True)
        ],
        "burn_rate": [target(0, f"{BURN_RATE}{{{chosen}}}", "{{model}} {{slo}}", datasource)],
        "objective": [
            target(0, f"{OBJECTIVE}{{{chosen}}}", "{{model}} {{slo}} objective", datasource, instant=True),
            target(
                1, f"{WINDOW_DAYS}{{{chosen}}}", "{{model}} {{slo}} window (days)", datasource, instant=True
            ),
        ],
        "bad_ratio": [
            target(
                0,
                f"sum {by} ({BAD}{{{chosen}}}) / sum {by} ({TOTAL}{{{chosen}}})",
                "{{model}} {{slo}}",
                datasource,
            ),
            # The ratio the objective allows, from the metadata: the line the SLI must stay under.
            target(1, f"{ERROR_BUDGET}{{{chosen}}}", "{{model}} {{slo}} allowed", datasource),
        ],
        # Both SLOs of a model count the same requests; max keeps one of them.
        "request_rate": [target(0, f"max by (model) ({TOTAL}{{{SCOPE}}})", "{{model}}", datasource)],
        "at_risk": [
            target(
                0,
                f"count({BUDGET_REMAINING}{{{chosen}}} < 0) or vector(0)",
                "spent",
                datasource,
                instant=True,
            ),
            target(
                1,
                f"count({BURN_RATE}{{{chosen}}} > 1) or vector(0)",
                "burning faster than budgeted",
                datasource,
                instant=True,
            ),
        ],
    }


def model_queries(datasource: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The model dashboard's panels beyond the SLOs: replicas, drift and the runtimes' own series."""
    deployments = 'namespace="$namespace", deployment=~"$model(-canary|-predictor(-.*)?)?"'
    return {
        "replicas": [
            target(
                0,
                f"sum by (deployment) (kube_deployment_status_replicas_available{{{deployments}}})",
                "{{deployment}} available",
                datasource,
            ),
            target(1, f"sum(kube_deployment_spec_replicas{{{deployments}}})", "desired", datasource),
        ],
        "drift": [target(0, f"{DRIFT_METRIC}{{{SCOPE}}}", "{{feature}}", datasource)],
        "triton_latency": [
            target(i, _per_request(metric), legend, datasource)
            for i, (metric, legend) in enumerate(
                [
                    ("nv_inference_queue_duration_us", "queue"),
                    ("nv_inference_compute_infer_duration_us", "compute"),
                ]
            )
        ],
        "triton_gpu": [
            target(
                0,
                f"avg by (pod, gpu_uuid) (nv_gpu_utilization{{{PODS}}})",
                "{{pod}} {{gpu_uuid}}",
                datasource,
            )
        ],
        "triton_gpu_memory": [
            target(0, f"sum by (pod) (nv_gpu_memory_used_bytes{{{PODS}}})", "{{pod}}", datasource)
        ],
        "vllm_tokens": [
            target(0, f"sum(rate(vllm:prompt_tokens_total{{{PODS}}}[{RATE}]))", "prompt", datasource),
            target(1, f"sum(rate(vllm:generation_tokens_total{{{PODS}}}[{RATE}]))", "generated", datasource),
        ],
        "vllm_queue": [
            target(0, f"sum(vllm:num_requests_waiting{{{PODS}}})", "waiting", datasource),
            target(1, f"sum(vllm:num_requests_running{{{PODS}}})", "running", datasource),
        ],
    }


def _per_request(metric: str) -> str:
    """Mean seconds per request of a Triton duration counter (microseconds)."""
    requests = f"sum(rate(nv_inference_request_success{{{PODS}}}[{RATE}]))"
    return f"sum(rate({metric}{{{PODS}}}[{RATE}])) / {requests} / 1e6"


def alerts_annotation() -> str:
    return f'ALERTS{{{SCOPE}, alertstate="firing"}}'
