"""An environment's shared rules grow with the models (about 1 MB at 1,000).  As PrometheusRule
objects they are cut into one object per group, and a group larger than
``prometheus.OBJECT_BUDGET`` into several (``prometheus.shared_parts``), so that no object nears
etcd's 1.5 MiB limit.  Argo CD's default client-side apply would copy an object into an
annotation limited to 256 KiB and refuse the sync, so under Argo CD each object asks for
server-side apply; Flux applies server-side always.  The routing series is one rule per
environment however many owners the models have."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from compile_helpers import example
from mlgitops.pipeline import generate_files
from mlgitops.targets.monitoring.prometheus import shared_parts

ANNOTATION = "argocd.argoproj.io/sync-options"
GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
MIB = 1024 * 1024


def _shared_objects(root: Path) -> dict[str, str]:
    """Path → text of every shared PrometheusRule object compiled from ``root``."""
    result = generate_files(root)
    assert result.ok, result.diagnostics
    found = {f.path: f.content for f in result.files if "/prometheusrule-slo-" in f.path}
    assert found, f"{root}: no shared rule object"
    return found


def test_under_argo_cd_every_shared_object_is_applied_server_side() -> None:
    for text in _shared_objects(example("quickstart")).values():
        assert yaml.safe_load(text)["metadata"]["annotations"] == {ANNOTATION: "ServerSideApply=true"}


def test_under_flux_nothing_is_added() -> None:
    for text in _shared_objects(example("gitlab-flux-k8s")).values():
        assert ANNOTATION not in yaml.safe_load(text)["metadata"]["annotations"]


def test_one_object_per_group_with_the_group_in_its_name() -> None:
    objects = _shared_objects(example("quickstart"))
    for path, text in objects.items():
        manifest = yaml.safe_load(text)
        env = path.split("/")[-2]
        (group,) = manifest["spec"]["groups"]
        stem = group["name"].removeprefix(f"mlgitops-slo/{env}/")
        assert manifest["metadata"]["name"] == f"mlgitops-slo-{stem}"
        assert path.endswith(f"/{env}/prometheusrule-slo-{stem}.yaml")
    stems = sorted(p.rsplit("/", 1)[1] for p in objects if "/prod/" in p)
    assert stems == [
        f"prometheusrule-slo-{s}.yaml"
        for s in ("1-metadata", "2-sli", "3-long-windows", "4-budget", "5-alerts")
    ]


def test_a_group_over_the_budget_is_cut_between_rules_in_order() -> None:
    rules = [{"record": f"r{i}", "expr": "x" * 400} for i in range(10)]
    parts = shared_parts([{"name": "mlgitops-slo/prod/1-metadata", "rules": rules}], budget=1_500)
    assert [name for name, _ in parts] == ["1-metadata", "1-metadata-2", "1-metadata-3", "1-metadata-4"]
    assert [g["name"] for _, groups in parts for g in groups][1] == "mlgitops-slo/prod/1-metadata-2"
    assert [r for _, groups in parts for g in groups for r in g["rules"]] == rules
    # a rule larger than the budget is never cut: it stands alone
    big = [{"record": "big", "expr": "x" * 5_000}, {"record": "small", "expr": "x"}]
    assert [
        len(g[0]["rules"]) for _, g in shared_parts([{"name": "a/b/2-sli", "rules": big}], budget=1_500)
    ] == [1, 1]


def _generate(n: int, outdir: Path, owner_per_model: bool = False) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), str(n), str(outdir)], check=True, capture_output=True)
    if owner_per_model:
        for path in (outdir / "models").rglob("*.yaml"):
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            spec["metadata"]["owner"] = f"{spec['metadata']['name']}-owners"
            path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return outdir


def test_at_1500_models_every_shared_object_stays_under_1_mib(tmp_path: Path) -> None:
    """About 1.5 MB of shared rules per environment: one object would pass etcd's limit."""
    objects = _shared_objects(_generate(1500, tmp_path / "p"))
    sizes = {path: len(text.encode()) for path, text in objects.items()}
    prod = sum(size for path, size in sizes.items() if "/prod/" in path)
    assert prod > 1.5 * MIB * 0.9, f"the project no longer needs cutting ({prod} bytes): raise N"
    assert max(sizes.values()) < MIB, sizes


def _recording_rules(objects: dict[str, str]) -> int:
    return sum(
        "record" in rule
        for text in objects.values()
        for group in yaml.safe_load(text)["spec"]["groups"]
        for rule in group["rules"]
    )


def test_recording_rules_do_not_grow_with_the_owners(tmp_path: Path) -> None:
    """With one owner per model the routing stays one rule per environment (it was one rule per
    distinct owner and route: 300 rules at about 70 models)."""
    counts = [
        _recording_rules(_shared_objects(_generate(n, tmp_path / str(n), owner_per_model=True)))
        for n in (9, 27)
    ]
    assert counts[0] == counts[1], counts
    routing = [
        rule
        for text in _shared_objects(tmp_path / "27").values()
        for group in yaml.safe_load(text)["spec"]["groups"]
        for rule in group["rules"]
        if rule.get("record") == "mlgitops_slo:alert_route:info"
    ]
    assert len(routing) == 3  # one per environment
