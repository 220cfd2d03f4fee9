"""Talking to the Prometheus Pushgateway: the text exposition format over plain HTTP.

One group per model and environment (``/metrics/job/mlgitops-drift/model/<m>/environment/<e>``).
A completed run replaces the group (PUT), so a feature dropped from the spec disappears; a
run that fails before it has scores only updates its run metrics (POST), so the last
scores and the time of the last success stay for the alerts to read.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

JOB = "mlgitops-drift"
LAST_RUN = "mlgitops_drift_last_run_timestamp_seconds"
LAST_SUCCESS = "mlgitops_drift_last_success_timestamp_seconds"
LAST_RUN_SUCCESS = "mlgitops_drift_last_run_success"
RETRAIN_TRIGGERED = "mlgitops_drift_retrain_triggered_timestamp_seconds"
TIMEOUT_SECONDS = 30

HELP = {
    LAST_RUN: "Unix time the last drift check ended, successful or not.",
    LAST_SUCCESS: "Unix time the last drift check completed successfully.",
    LAST_RUN_SUCCESS: "1 when the last drift check completed, 0 when it failed.",
    RETRAIN_TRIGGERED: "Unix time the drift check last started retraining.",
}


class PushError(Exception):
    """The Pushgateway could not be reached or refused the push."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def exposition(samples: list[Sample], help_texts: dict[str, str]) -> str:
    """The text exposition format: each metric's HELP and TYPE once, then its samples."""
    lines: list[str] = []
    seen: set[str] = set()
    for sample in samples:
        if sample.name not in seen:
            seen.add(sample.name)
            lines.append(f"# HELP {sample.name} {help_texts.get(sample.name, sample.name)}")
            lines.append(f"# TYPE {sample.name} gauge")
        labels = ",".join(f'{key}="{escape_label(value)}"' for key, value in sample.labels)
        selector = f"{{{labels}}}" if labels else ""
        lines.append(f"{sample.name}{selector} {format_value(sample.value)}")
    return "\n".join(lines) + "\n"


def group_path(model: str, environment: str) -> str:
    """The grouping key in the URL; ``@base64`` is not needed as quote() keeps '/' out."""
    return f"/metrics/job/{JOB}/model/{quote(model, safe='')}/environment/{quote(environment, safe='')}"


def _request(url: str, method: str, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise PushError(f"{method} {url}: HTTP {error.code} {detail}".strip()) from error
    except (urllib.error.URLError, OSError) as error:
        raise PushError(f"{method} {url}: {error}") from error


def push(base_url: str, model: str, environment: str, payload: str, replace: bool) -> None:
    """PUT (replace the group) or POST (replace only the metrics in ``payload``)."""
    url = base_url.rstrip("/") + group_path(model, environment)
    _request(url, "PUT" if replace else "POST", payload.encode())


def read_group(base_url: str, model: str, environment: str) -> dict[str, float]:
    """The group's current values by metric name (first sample of each), from ``/api/v1/metrics``."""
    raw = _request(base_url.rstrip("/") + "/api/v1/metrics", "GET")
    try:
        groups = json.loads(raw)["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise PushError(f"unexpected answer from {base_url}/api/v1/metrics: {error}") from error
    wanted = {"job": JOB, "model": model, "environment": environment}
    values: dict[str, float] = {}
    for group in groups if isinstance(groups, list) else []:
        labels = group.get("labels") if isinstance(group, dict) else None
        if not isinstance(labels, dict) or any(labels.get(k) != v for k, v in wanted.items()):
            continue
        for name, family in group.items():
            if name == "labels" or not isinstance(family, dict):
                continue
            metrics = family.get("metrics") or []
            if metrics and isinstance(metrics[0], dict) and "value" in metrics[0]:
                try:
                    values[name] = float(metrics[0]["value"])
                except (TypeError, ValueError):
                    continue
    return values
