"""Where a drift check sends "retrain this model": the CI's API, derived from ``spec.repository``.

The drift CronJob (targets/monitoring/drift.py) starts the model's training pipeline
when a feature drifts and the spec sets ``drift.retrain``:

* ``ci: github``: a ``repository_dispatch`` event ``mlgitops-retrain-<model>``
  (``POST <api>/repos/<owner>/<repo>/dispatches``), which the model's training
  workflow lists under ``on.repository_dispatch.types`` (targets/ci/github.py);
* ``ci: gitlab``: a pipeline trigger
  (``POST <gitlab>/api/v4/projects/<url-encoded path>/trigger/pipeline`` with
  ``token``, ``ref`` and ``variables[MLGITOPS_TRAIN]=<model>``), which the
  model's ``train-<model>`` job accepts (``$CI_PIPELINE_SOURCE == "trigger"``).

The API is derived from the repository URL, best effort, as documented in
docs/drift.md: ``github.com`` uses ``https://api.github.com``, any other host
is taken for GitHub Enterprise Server (``https://<host>/api/v3``); GitLab's
API is on the repository's host.  SSH and scp-like URLs
(``git@host:group/project.git``) name the same host over HTTPS.
"""

from __future__ import annotations

from urllib.parse import quote

from mlgitops import ir
from mlgitops.repourl import repository

EVENT_PREFIX = "mlgitops-retrain-"
GITHUB_API = "https://api.github.com"


def event_type(model: str) -> str:
    """The ``repository_dispatch`` event that retrains ``model`` (at most 80 of GitHub's 100 characters)."""
    return EVENT_PREFIX + model


def retrains(model: ir.Model) -> bool:
    drift = model.monitoring.drift
    return drift is not None and drift.retrain


def github_dispatch_url(url: str) -> str:
    repo = repository(url)
    api = GITHUB_API if repo.host in ("github.com", "www.github.com") else f"{repo.base}/api/v3"
    return f"{api}/repos/{repo.path}/dispatches"


def gitlab_trigger_url(url: str) -> str:
    repo = repository(url)
    return f"{repo.base}/api/v4/projects/{quote(repo.path, safe='')}/trigger/pipeline"


def trigger_url(project: ir.Project) -> str:
    return (
        gitlab_trigger_url(project.repository)
        if project.ci == "gitlab"
        else github_dispatch_url(project.repository)
    )
