"""Starting the training pipeline when a feature drifts, at most once per cooldown.

GitHub: a ``repository_dispatch`` event; GitLab: a pipeline trigger (docs/drift.md#retraining).
The URL, event or ref come from the CronJob (mlgitops' targets/retrain.py derives them from
``spec.repository``); the token from a Secret.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT_SECONDS = 30


class RetrainError(Exception):
    """The CI API refused or could not be reached."""


@dataclass(frozen=True)
class RetrainSettings:
    provider: str  # github | gitlab
    url: str
    token: str
    cooldown_seconds: int
    event: str | None = None  # GitHub
    ref: str | None = None  # GitLab


def cooldown_over(last_triggered: float | None, now: float, cooldown_seconds: int) -> bool:
    """True when no trigger is known, or the last one is at least ``cooldown_seconds`` old."""
    return last_triggered is None or now - last_triggered >= cooldown_seconds


def build_request(
    settings: RetrainSettings, model: str, environment: str, features: list[str]
) -> urllib.request.Request:
    if settings.provider == "github":
        body = {
            "event_type": settings.event or f"mlgitops-retrain-{model}",
            "client_payload": {"environment": environment, "features": features},
        }
        request = urllib.request.Request(settings.url, data=json.dumps(body).encode(), method="POST")
        request.add_header("Authorization", f"Bearer {settings.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("Content-Type", "application/json")
        return request
    if settings.provider == "gitlab":
        if not settings.ref:
            raise RetrainError("MLGITOPS_RETRAIN_REF is required for a GitLab pipeline trigger")
        form = {"token": settings.token, "ref": settings.ref, "variables[MLGITOPS_TRAIN]": model}
        request = urllib.request.Request(
            settings.url, data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return request
    raise RetrainError(f"MLGITOPS_RETRAIN_PROVIDER must be github or gitlab, not {settings.provider!r}")


def trigger(settings: RetrainSettings, model: str, environment: str, features: list[str]) -> None:
    request = build_request(settings, model, environment, features)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise RetrainError(f"POST {settings.url}: HTTP {error.code} {detail}".strip()) from error
    except (urllib.error.URLError, OSError) as error:
        raise RetrainError(f"POST {settings.url}: {error}") from error
