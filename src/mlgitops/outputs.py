"""Directories under the output path that hold the whole project's files, not one environment's.

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
