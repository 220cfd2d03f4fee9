"""The check's settings: the environment variables the generated CronJob sets (docs/drift.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from mlgitops_drift.retrain import RetrainSettings

DEFAULT_METRIC = "mlgitops_feature_drift"
DEFAULT_COOLDOWN_SECONDS = 86400


# The model's own settings, which the generated CronJob passes as arguments (``--model=iris``)
# and its environment's ConfigMaps do not hold: each argument stands for its variable and wins
# over it, so the checker reads one set of names (docs/drift.md).
ARGUMENTS = {
    "model": "MLGITOPS_MODEL",
    "model-version": "MLGITOPS_MODEL_VERSION",
    "features": "MLGITOPS_FEATURES",
    "method": "MLGITOPS_DRIFT_METHOD",
    "threshold": "MLGITOPS_DRIFT_THRESHOLD",
    "live-window-seconds": "MLGITOPS_LIVE_WINDOW_SECONDS",
    "current": "MLGITOPS_CURRENT_URI",
    "reference-name": "MLGITOPS_REFERENCE_NAME",
    "reference": "MLGITOPS_REFERENCE_URI",
    "reference-version": "MLGITOPS_REFERENCE_VERSION",
    "retrain-event": "MLGITOPS_RETRAIN_EVENT",
}


def with_arguments(env: Mapping[str, str], given: Mapping[str, str | None]) -> dict[str, str]:
    """The variables, with each argument given (by its name in :data:`ARGUMENTS`) in its place."""
    merged = dict(env)
    merged.update({ARGUMENTS[name]: value for name, value in given.items() if value is not None})
    return merged


class SettingsError(Exception):
    """A variable of the contract is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    model: str
    environment: str
    features: list[str]
    method: str
    threshold: float
    metric: str
    reference_uri: str
    current_uri: str
    window_seconds: int
    pushgateway_url: str
    retrain: RetrainSettings | None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _number(env: Mapping[str, str], name: str, default: str | None = None) -> float:
    raw = env.get(name, "").strip() or default
    if raw is None:
        raise SettingsError(f"{name} is not set")
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be a finite number >= 0, not {raw!r}")
    return value


def push_target(env: Mapping[str, str]) -> tuple[str, str, str] | None:
    """Pushgateway URL, model and environment when all are set: enough to report a failed run."""
    keys = ("MLGITOPS_PUSHGATEWAY_URL", "MLGITOPS_MODEL", "MLGITOPS_ENVIRONMENT")
    values = tuple(env.get(k, "").strip() for k in keys)
    return (values[0], values[1], values[2]) if all(values) else None


def _retrain(env: Mapping[str, str]) -> RetrainSettings | None:
    provider = env.get("MLGITOPS_RETRAIN_PROVIDER", "").strip()
    if not provider:
        return None
    if provider not in ("github", "gitlab"):
        raise SettingsError(f"MLGITOPS_RETRAIN_PROVIDER must be github or gitlab, not {provider!r}")
    return RetrainSettings(
        provider=provider,
        url=_required(env, "MLGITOPS_RETRAIN_URL"),
        token=_required(env, "MLGITOPS_RETRAIN_TOKEN"),
        cooldown_seconds=int(
            _number(env, "MLGITOPS_RETRAIN_COOLDOWN_SECONDS", str(DEFAULT_COOLDOWN_SECONDS))
        ),
        event=env.get("MLGITOPS_RETRAIN_EVENT") or None,
        ref=_required(env, "MLGITOPS_RETRAIN_REF") if provider == "gitlab" else None,
    )


def from_environment(env: Mapping[str, str]) -> Settings:
    features = [f.strip() for f in _required(env, "MLGITOPS_FEATURES").split(",")]
    if any(not f for f in features):
        raise SettingsError("MLGITOPS_FEATURES has an empty feature name")
    method = _required(env, "MLGITOPS_DRIFT_METHOD")
    if method not in ("psi", "ks"):
        raise SettingsError(f"MLGITOPS_DRIFT_METHOD must be psi or ks, not {method!r}")
    return Settings(
        model=_required(env, "MLGITOPS_MODEL"),
        environment=_required(env, "MLGITOPS_ENVIRONMENT"),
        features=features,
        method=method,
        threshold=_number(env, "MLGITOPS_DRIFT_THRESHOLD"),
        metric=env.get("MLGITOPS_DRIFT_METRIC", "").strip() or DEFAULT_METRIC,
        reference_uri=_required(env, "MLGITOPS_REFERENCE_URI"),
        current_uri=_required(env, "MLGITOPS_CURRENT_URI"),
        window_seconds=int(_number(env, "MLGITOPS_LIVE_WINDOW_SECONDS")),
        pushgateway_url=_required(env, "MLGITOPS_PUSHGATEWAY_URL"),
        retrain=_retrain(env),
    )
