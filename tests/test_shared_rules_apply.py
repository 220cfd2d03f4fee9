"""An environment's shared PrometheusRule grows with the models (about 1 MB at 1,000): Argo CD's
default client-side apply would copy it into an annotation limited to 256 KiB and refuse the
sync, so under Argo CD the object asks for server-side apply; Flux applies server-side always."""

from __future__ import annotations

import yaml

from compile_helpers import example
from mlgitops.pipeline import generate_files

ANNOTATION = "argocd.argoproj.io/sync-options"


def _shared_rules(name: str) -> list[dict[str, object]]:
    result = generate_files(example(name))
    assert result.ok
    found = [yaml.safe_load(f.content) for f in result.files if f.path.endswith("/prometheusrule-slo.yaml")]
    assert found, f"{name}: no shared rule object"
    return found


def test_under_argo_cd_the_shared_rules_are_applied_server_side() -> None:
    for rule in _shared_rules("quickstart"):
        assert rule["metadata"]["annotations"] == {ANNOTATION: "ServerSideApply=true"}  # type: ignore[index]


def test_under_flux_nothing_is_added() -> None:
    for rule in _shared_rules("gitlab-flux-k8s"):
        assert ANNOTATION not in rule["metadata"]["annotations"]  # type: ignore[index]
