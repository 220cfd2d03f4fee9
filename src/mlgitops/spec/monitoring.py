"""What is watched once a model serves: SLOs, drift and where alerts go."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mlgitops.spec.base import SpecModel
from mlgitops.spec.common import KubernetesSecretKey
from mlgitops.spec.types import Cron, Duration, HttpUrl, Image, NonEmptyText, Objective, PromSelector, Text

PromLabelName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
AlertName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", max_length=128)]
RESERVED_ALERT_LABELS = frozenset({"model", "environment", "namespace", "slo", "alertname"})


class SeverityAlert(SpecModel):
    """One of the two burn-rate alerts of an SLO."""

    labels: dict[PromLabelName, Text] | None = Field(
        default=None,
        description="Labels of this alert only, e.g. `{severity: critical}` to replace `severity: page`.",
    )
    for_: Duration | None = Field(
        default=None,
        alias="for",
        description="How long the condition must hold before the alert fires; default at once.",
    )


class SLOAlerting(SpecModel):
    """The burn-rate alerts of one SLO, as SLO users write them."""

    name: AlertName | None = Field(
        default=None,
        description="Name of both alerts (told apart by `severity`); default `Model<Kind>FastBurn` "
        "and `Model<Kind>SlowBurn`.",
    )
    labels: dict[PromLabelName, Text] | None = Field(
        default=None,
        description="Labels of both alerts; `model`, `environment`, `namespace` and `slo` are "
        "set by mlgitops and cannot be given.",
    )
    annotations: dict[PromLabelName, Text] | None = Field(
        default=None, description="Annotations of both alerts (`summary` and `description` replace mlgitops'."
    )
    runbook_url: HttpUrl | None = Field(
        default=None, description="Runbook of this SLO's alerts; default `monitoring.alerts.runbookUrl`."
    )
    page: SeverityAlert | None = Field(default=None, description="The fast-burn (page) alert.")
    ticket: SeverityAlert | None = Field(default=None, description="The slow-burn (ticket) alert.")
    disable: bool = Field(
        default=False, description="No burn-rate alerts for this SLO (its series are still recorded)."
    )

    @model_validator(mode="after")
    def _reserved_labels(self) -> SLOAlerting:
        given = set(self.labels or ()) | {k for a in (self.page, self.ticket) if a for k in a.labels or ()}
        reserved = sorted(given & RESERVED_ALERT_LABELS)
        if reserved:
            raise PydanticCustomError(
                "MLG204",
                "alerting labels {labels} are set by mlgitops (they identify the SLO)",
                {"labels": ", ".join(reserved)},
            )
        return self


class AvailabilitySLO(SpecModel):
    """Share of requests that must succeed (not answered with a 5xx)."""

    objective: Objective = Field(description="Target percentage of good requests, e.g. `99.9`.")
    window: Duration = Field(default="30d", description="Rolling SLO window, e.g. `30d` or `28d`.")
    alerting: SLOAlerting | None = Field(default=None, description="Shape of this SLO's alerts.")


class LatencySLO(SpecModel):
    """Share of requests that must be answered faster than `threshold`."""

    objective: Objective = Field(description="Target percentage of requests under the threshold, e.g. `99`.")
    threshold: Duration = Field(description="Latency threshold, e.g. `250ms`.")
    window: Duration = Field(default="30d", description="Rolling SLO window.")
    alerting: SLOAlerting | None = Field(default=None, description="Shape of this SLO's alerts.")


class SLOs(SpecModel):
    """Service-level objectives; each becomes burn-rate alerts."""

    availability: AvailabilitySLO | None = Field(default=None, description="Availability objective.")
    latency: LatencySLO | None = Field(default=None, description="Latency objective.")


CURRENT_PLACEHOLDERS = frozenset({"{date}", "{model}", "{environment}"})


class Drift(SpecModel):
    """A scheduled comparison of live inputs with the training reference."""

    features: Annotated[list[NonEmptyText], Field(min_length=1)] = Field(description="Features to compare.")
    method: Literal["psi", "ks"] = Field(
        default="psi",
        description="`psi` (population stability index) or `ks` (Kolmogorov-Smirnov statistic).",
    )
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        description="Drift score above which a feature alerts."
    )
    schedule: Cron = Field(default="0 * * * *", description="When the drift check runs (cron, UTC).")
    reference: Text | None = Field(
        default=None,
        description="Name of the data source used as reference; default the first one.",
    )
    current: Text | None = Field(
        default=None,
        description="Where the current window's inputs are (Parquet or CSV files, one column per feature), "
        "e.g. `s3://acme-logs/{model}/{environment}/{date}/`: `{date}` (UTC `YYYY-MM-DD`) is filled in "
        "for each day the live window touches, `{model}` and `{environment}` too. The default image needs "
        "it; a custom image may find its data another way.",
    )
    image: Image | None = Field(
        default=None,
        description="Drift-check container image; default `ghcr.io/mlgitops/mlgitops-drift:<mlgitops "
        "version>`, built from this repository's `drift/` (pin it by digest).",
    )
    retrain: bool = Field(
        default=False,
        description="When a feature drifts, start the training pipeline (GitHub repository_dispatch or "
        "GitLab pipeline trigger); needs `retrainToken`.",
    )
    retrain_token: KubernetesSecretKey | None = Field(
        default=None,
        description="Secret key holding the token the drift job uses to start retraining "
        "(a GitHub token allowed to dispatch, or a GitLab pipeline trigger token).",
    )

    @field_validator("current")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        unknown = sorted(set(re.findall(r"\{[^}]*\}", value or "")) - CURRENT_PLACEHOLDERS)
        if unknown:
            raise PydanticCustomError(
                "MLG202",
                "drift.current may use {{date}}, {{model}} and {{environment}}, not {unknown}",
                {"unknown": ", ".join(unknown)},
            )
        return value

    @model_validator(mode="after")
    def _token_for_retraining(self) -> Drift:
        if self.retrain and self.retrain_token is None:
            raise PydanticCustomError(
                "MLG202", "drift.retrain is true, so drift.retrainToken is required (the secret the job uses)"
            )
        return self


class Alerts(SpecModel):
    """Where alerts are routed."""

    route: NonEmptyText = Field(description="Alertmanager route (receiver) label, e.g. `risk-oncall`.")
    runbook_url: HttpUrl | None = Field(default=None, description="Runbook linked from every alert.")


class MetricSelectors(SpecModel):
    """PromQL series the SLOs are computed from, when the serving target's defaults do not fit
    (docs/monitoring.md lists the defaults). Each is a metric name with optional label matchers."""

    requests: PromSelector | None = Field(
        default=None, description='Counter of all requests, e.g. `http_requests_total{job="ranker"}`.'
    )
    errors: PromSelector | None = Field(
        default=None, description='Counter of failed requests, e.g. `http_requests_total{code=~"5.."}`.'
    )
    latency: PromSelector | None = Field(
        default=None, description="Histogram buckets of request latency (a `_bucket` series with `le`)."
    )
    latency_unit: Literal["seconds", "milliseconds"] | None = Field(
        default=None, description="Unit of the latency histogram's `le` label."
    )
    good: PromSelector | None = Field(
        default=None,
        description="Counter of good events: availability is `good / requests` instead of "
        "`1 - errors / requests`, e.g. `probe_success_total`.",
    )
    gauge: PromSelector | None = Field(
        default=None,
        description="A 0..1 gauge whose average over time is the availability, e.g. "
        '`probe_success{instance="https://ranker.acme.internal"}` or `up{job="ranker"}` '
        "(time-based: each moment weighs the same, not each request).",
    )

    @model_validator(mode="after")
    def _one_availability_source(self) -> MetricSelectors:
        if self.gauge is not None and (self.good is not None or self.errors is not None):
            raise PydanticCustomError(
                "MLG204", "metrics.gauge replaces requests and errors: give it alone, or use good/errors"
            )
        if self.good is not None and self.errors is not None:
            raise PydanticCustomError("MLG204", "give metrics.good or metrics.errors, not both")
        return self


class Scrape(SpecModel):
    """What Prometheus scrapes on the model's pods (the ServiceMonitor or PodMonitor endpoint)."""

    port: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")] | None = Field(
        default=None,
        description="Name of the port scraped (endpoint `port`): `http`, Triton's `metrics`, or one of "
        "`serving.ports`; default `http` (`metrics` for Triton) on plain Kubernetes, Knative's "
        "queue-proxy (serverless) or the predictor's annotated port (standard) on KServe.",
    )
    path: Annotated[str, Field(pattern=r"^/[\x21-\x7e]*$", max_length=1024)] | None = Field(
        default=None, description="HTTP path scraped (endpoint `path`); default `/metrics`."
    )


class Monitoring(SpecModel):
    """Monitoring of the served model."""

    slos: SLOs | None = Field(default=None, description="Service-level objectives.")
    drift: Drift | None = Field(default=None, description="Data drift monitoring.")
    alerts: Alerts | None = Field(default=None, description="Alert routing.")
    metrics: MetricSelectors | None = Field(
        default=None, description="Override the series SLOs are computed from."
    )
    scrape: Scrape | None = Field(
        default=None, description="Port and path the ServiceMonitor (or PodMonitor) scrapes."
    )
