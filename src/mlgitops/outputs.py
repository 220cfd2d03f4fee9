"""Directories under the output path that hold the whole project's files, not one environment's.

Each environment owns ``<output>/<env>/``; these names sit beside them, so targets write
here and validation keeps an environment from being named like one of them (MLG325).
"""

from __future__ import annotations

GITOPS_DIR = "gitops"  # Argo CD Applications, Flux objects
PROMETHEUS_DIR = "prometheus"  # plain rule files and their promtool tests
DASHBOARDS_DIR = "dashboards"  # Grafana dashboards as JSON files

PROJECT_DIRS = frozenset({GITOPS_DIR, PROMETHEUS_DIR, DASHBOARDS_DIR})
