"""``gate``: apply a model's evaluation gates to a metrics file."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops import ir
from mlgitops.boundedread import ReadRefused, TooLarge, Unreadable, read_bounded
from mlgitops.errors import UserError


@dataclass(frozen=True, slots=True)
class GateOutcome:
    metric: str
    value: float | None  # None: the metric is missing from the file
    minimum: float | None
    maximum: float | None

    @property
    def passed(self) -> bool:
        if self.value is None or math.isnan(self.value):
            return False
        if self.minimum is not None and self.value < self.minimum:
            return False
        return not (self.maximum is not None and self.value > self.maximum)

    @property
    def threshold(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)


MAX_METRICS_BYTES = 16 << 20  # an evaluation writes a few numbers; a bigger file is a mistake


def read_metrics(path: Path) -> dict[str, float]:
    """Metric name → number from a JSON object; nested objects give dotted names (``eval.auc``)."""
    try:
        raw = read_bounded(path, MAX_METRICS_BYTES)
    except Unreadable as exc:
        if isinstance(exc.error, FileNotFoundError):
            raise UserError(f"metrics file {path} does not exist") from None
        raise UserError(f"metrics file {path} {exc.reason}") from None
    except TooLarge:
        raise UserError(f"metrics file {path} is larger than the limit of 16 MiB") from None
    except ReadRefused as exc:
        raise UserError(f"metrics file {path} {exc.reason}") from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"metrics file {path} is not UTF-8 text (byte offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"metrics file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise UserError(f"metrics file {path} is nested too deeply to be a metrics file") from None
    if not isinstance(document, dict):
        raise UserError(f"metrics file {path} must hold a JSON object of metric names to numbers")
    metrics: dict[str, float] = {}
    try:
        _flatten(document, "", metrics)
    except RecursionError:
        raise UserError(f"metrics file {path} is nested too deeply to be a metrics file") from None
    return metrics


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, float]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + ".", out)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            continue  # text and lists are not metrics; a gate on them reports "missing"
        else:
            out[name] = float(value)


def apply_gates(evaluation: ir.Evaluation | None, metrics: dict[str, float]) -> list[GateOutcome]:
    if evaluation is None:
        return []
    return [GateOutcome(g.metric, metrics.get(g.metric), g.min, g.max) for g in evaluation.gates]
