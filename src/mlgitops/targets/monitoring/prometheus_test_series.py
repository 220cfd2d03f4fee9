"""Input series for the promtool tests of :mod:`.prometheus_tests`: counters, histograms and gauges
invented from an SLO's own selectors (:func:`promql.series`), fed with a steady bad ratio, then a
burst of another."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from mlgitops.targets.monitoring import prometheus_rules as pr
from mlgitops.targets.monitoring import promql, slo

PER_SAMPLE = Decimal(1000)  # requests between two input samples
SeriesMaker = Callable[[int, int, Decimal], list[dict[str, str]]]  # baseline samples, burn samples, bad ratio


def counter(base_samples: int, base_step: Decimal, burn_samples: int, burn_step: Decimal) -> str:
    """promtool values of a counter growing by ``base_step`` per sample, then by ``burn_step``."""
    if burn_samples == 0 or base_step == burn_step:
        return f"0+{slo.number(base_step)}x{base_samples + burn_samples}"
    start = base_step * base_samples + burn_step
    head = f"0+{slo.number(base_step)}x{base_samples} " if base_samples else "0 "
    return f"{head}{slo.number(start)}+{slo.number(burn_step)}x{burn_samples - 1}"


def series_text(metric: str, labels: dict[str, str]) -> str:
    return promql.Selector(metric, tuple(promql.Matcher(k, "=", v) for k, v in labels.items())).render()


def gauge_series(gauge: promql.Selector) -> SeriesMaker | None:
    """A 0..1 gauge (metrics.gauge) at 1, then at 1 − the bad ratio."""
    labels = promql.series(gauge)
    if labels is None:
        return None

    def make(base: int, burn: int, ratio: Decimal) -> list[dict[str, str]]:
        low = slo.number(1 - ratio)
        values = f"1x{base - 1} {low}x{burn}" if base else f"{low}x{burn}"
        return [{"series": series_text(gauge.metric, labels), "values": values}]

    return make


def availability_series(s: pr.SLORules) -> SeriesMaker | None:
    if s.series.gauge is not None:
        return gauge_series(s.series.gauge)
    # metrics.good: the good counter plays the part of the errors counter, the other way round
    good = s.series.good
    requests, errors = s.series.requests, good if good is not None else s.series.errors
    bad_labels = promql.series(errors)
    good_labels = promql.series(requests, avoid=[errors])
    if bad_labels is None or good_labels is None:
        return None
    counted = requests.matches(errors.metric, bad_labels)  # is an error also a request of `requests`?

    def make(base: int, burn: int, ratio: Decimal) -> list[dict[str, str]]:
        bad = PER_SAMPLE * ratio
        if good is None:  # `errors` counts the bad requests
            steps = ((PER_SAMPLE, PER_SAMPLE - bad if counted else PER_SAMPLE), (Decimal(0), bad))
        else:  # `errors` is the good counter: the other series counts the rest, or all requests
            steps = (
                (Decimal(0), bad) if counted else (PER_SAMPLE, PER_SAMPLE),
                (PER_SAMPLE, PER_SAMPLE - bad),
            )
        (other_base, other_burn), (own_base, own_burn) = steps
        return [
            {
                "series": series_text(requests.metric, good_labels),
                "values": counter(base, other_base, burn, other_burn),
            },
            {
                "series": series_text(errors.metric, bad_labels),
                "values": counter(base, own_base, burn, own_burn),
            },
        ]

    return make


def latency_series(s: pr.SLORules) -> SeriesMaker | None:
    histogram = promql.Selector(
        s.series.histogram().metric, tuple(m for m in s.series.histogram().matchers if m.label != "le")
    )
    labels = promql.series(histogram)
    if labels is None:
        return None
    metric, threshold = histogram.metric, le_value(s)

    def make(base: int, burn: int, ratio: Decimal) -> list[dict[str, str]]:
        slow = PER_SAMPLE * ratio
        return [
            {
                "series": series_text(metric, {**labels, "le": "+Inf"}),
                "values": counter(base, PER_SAMPLE, burn, PER_SAMPLE),
            },
            {
                "series": series_text(metric, {**labels, "le": threshold}),
                "values": counter(base, PER_SAMPLE, burn, PER_SAMPLE - slow),
            },
        ]

    return make


def le_value(s: pr.SLORules) -> str:
    return slo.le_spellings(slo.threshold_in(s.series.latency_unit, s.threshold_ms))[0]
