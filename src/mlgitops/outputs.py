"""Names the targets write and validation checks alike: the directories under the output
path that hold the whole project's files, not one environment's, and the Argo CD
Applications' names.

Each environment owns ``<output>/<env>/``; these names sit beside them, so targets write
here and validation keeps an environment from being named like one of them (MLG325).
"""

from __future__ import annotations

GITOPS_DIR = "gitops"
PROMETHEUS_DIR = "prometheus"
DASHBOARDS_DIR = "dashboards"
CI_DIR = "ci"

# What each holds, as the MLG325 message says it.
PROJECT_DIRS = {
    GITOPS_DIR: "Argo CD / Flux objects",
    PROMETHEUS_DIR: "plain Prometheus rule files",
    DASHBOARDS_DIR: "Grafana dashboard files",
    CI_DIR: "CI pipeline inputs (training fingerprints)",
}


# spec.argocd.applicationName: the Applications' names, {project} and {environment} replaced.
DEFAULT_APPLICATION_NAME = "{project}-{environment}"


def application_name(template: str, project: str, environment: str) -> str:
    """An Argo CD Application's name from ``spec.argocd.applicationName`` (validate checks the
    result, the Argo CD target writes it)."""
    return template.replace("{project}", project).replace("{environment}", environment)
