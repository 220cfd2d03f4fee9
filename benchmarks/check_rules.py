"""Check the Prometheus rules of the synthetic project at scale (issue 14's rule targets).

Usage: python benchmarks/check_rules.py [N]   (default 1000 models)

Generates ``benchmarks/generate.py N`` into a temporary directory, compiles it with
``spec.prometheus.format: files``, counts recording rules and alerts, sizes the
monitoring output, and runs ``promtool check rules`` on every rule file and
``promtool test rules`` on every environment's test file.  Exits 1 when a promtool run
fails or there are more than 300 recording rules.  It takes minutes (promtool), so it is
not part of the test suite; tests/test_prometheus_rules.py runs the same checks on the
examples and on 12 models.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RECORDING_RULE_LIMIT = 300


def main() -> int:
    models = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    promtool = shutil.which("promtool", path=f"{ROOT / '.tools/bin'}:/usr/bin:/usr/local/bin") or "promtool"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks/generate.py"), str(models), str(project)], check=True
        )
        spec = yaml.safe_load((project / "mlgitops.yaml").read_text(encoding="utf-8"))
        spec["spec"]["prometheus"] = {"format": "files"}
        (project / "mlgitops.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "mlgitops", "compile", str(project)], check=True, capture_output=True
        )
        folder = project / spec["spec"].get("output", {}).get("path", "deploy") / "prometheus"
        rule_files = sorted(folder.rglob("*.rules.yml"))
        recording = alerts = 0
        for path in rule_files:
            for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
                recording += sum("record" in r for r in group["rules"])
                alerts += sum("alert" in r for r in group["rules"])
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(
            f"{models} models: {recording} recording rules, {alerts} alerts, {len(rule_files)} rule files, "
            f"{size / 1e6:.1f} MB of rule and test files"
        )
        failed = recording > RECORDING_RULE_LIMIT
        check = subprocess.run(
            [promtool, "check", "rules", *map(str, rule_files)], capture_output=True, text=True, check=False
        )
        print(f"promtool check rules: {'ok' if check.returncode == 0 else 'FAILED'}")
        failed |= check.returncode != 0
        suites = sorted(folder.rglob("*.rules.test.yml"))
        tests = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["tests"]) for p in suites)
        test_bytes = sum(p.stat().st_size for p in folder.rglob("_slo-test-*"))
        print(f"{len(suites)} promtool test files, {tests} tests, {test_bytes / 1e6:.2f} MB with their rules")
        started = time.monotonic()
        for suite in suites:
            run = subprocess.run(
                [promtool, "test", "rules", suite.name],
                cwd=suite.parent,
                capture_output=True,
                text=True,
                check=False,
            )
            verdict = "ok" if run.returncode == 0 else "FAILED"
            print(f"promtool test rules {suite.relative_to(folder)}: {verdict}")
            if run.returncode != 0:
                print(run.stdout[-3000:], run.stderr[-1000:])
                failed = True
        print(f"promtool test rules: {time.monotonic() - started:.0f} s in all, one file at a time")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
