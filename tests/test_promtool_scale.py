"""The promtool tests of the synthetic project (``benchmarks/generate.py``, ``format: files``) pass,
do not grow with the number of models, and exercise the real shared rules' text (issue 14).

Each environment has a test file per model the tests use (the first of each SLI family, alert
shape and drift shape), loading the shared rules built for that model alone (its *slice*,
``targets/monitoring/prometheus_test_sample.py``).  At 120 models every family and shape of the
generator is present (the 1,000-model project has the same 549 tests); at 240 there must be as
many tests, in about as many files and bytes.  Every line of a slice's rule must be a line of the same
rule in ``_slo.rules.yml`` (once the lists of model names are masked), and together the slices
must hold every line of every real rule but the metadata rows of the untested models.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import ROOT, edit_yaml, promtool_tests_failing
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = [pytest.mark.external, pytest.mark.slow]

SMALL, LARGE = 120, 240
# A list of model names (metadata selectors, routing rules) and a packed metadata row name models.
MODEL_LIST = re.compile(r'model=~"[^"]*"')
KIND_LIST = re.compile(r'"\([a-z|]+\)-\.\*"')  # the SLO kinds present, read from a family's name
PACKED_ROW = re.compile(r'^label_replace\(vector\([^)]*\), "mlgitops_packed", ')
NESTING = re.compile(r"^(?:or\b|[( ])+|[),]+$")
# The routing series: a rule per (owner, route), listing its models; a slice has its model's only.
ROUTE_INFO = "mlgitops_slo:alert_route:info"


def _generate(folder: Path, models: int) -> Path:
    root = folder / f"p{models}"
    generator = ROOT / "benchmarks" / "generate.py"
    subprocess.run([sys.executable, str(generator), str(models), str(root)], check=True, capture_output=True)
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(prometheus={"format": "files"}))
    result = compile_project(root, use_cache=False)
    assert result.ok, "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    return root / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """models → the compiled project's ``deploy/prometheus``."""
    folder = tmp_path_factory.mktemp("scale")
    return {n: _generate(folder, n) for n in (SMALL, LARGE)}


def _test_files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("_slo-test-*"))
    }


def test_the_tests_do_not_grow_with_the_models(projects: dict[int, Path]) -> None:
    """The same number of tests at 240 models as at 120, in about as many files and bytes (which model
    is the first of a shape may change as models are added: they are ordered by name), while the
    real shared rules grow with the models."""
    counts = {}
    for n, folder in projects.items():
        files = _test_files(folder)
        tests = sum(len(yaml.safe_load(t)["tests"]) for p, t in files.items() if p.endswith(".test.yml"))
        counts[n] = (len(files), tests, sum(len(t) for t in files.values()))
    (small_files, small_tests, small_bytes), (large_files, large_tests, large_bytes) = (
        counts[SMALL],
        counts[LARGE],
    )
    assert small_tests > 100, counts  # every shape of the generator is there
    assert large_tests == small_tests, counts
    assert large_files <= small_files + 2 * 3, counts  # at most one more model per environment
    assert large_bytes < small_bytes * 1.1, counts
    shared = {n: sum(len(p.read_bytes()) for p in f.rglob("_slo.rules.yml")) for n, f in projects.items()}
    assert shared[LARGE] > shared[SMALL] * 1.5, shared


def _rules(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(record or alert name, labels) → the rule."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    out = {}
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("record") or rule["alert"]
            out[(name, repr(sorted(rule.get("labels", {}).items())))] = rule
    return out


def _lines(rule: dict[str, Any]) -> set[str]:
    """The expression's lines with the model lists masked and the nesting of ``or`` unions (which
    differs with their size) taken off each line's ends."""
    masked = KIND_LIST.sub('"(…)-.*"', MODEL_LIST.sub('model=~"…"', rule["expr"]))
    lines = (NESTING.sub("", line.strip()) for line in masked.splitlines())
    return {line for line in lines if line}


def test_slices_hold_the_real_rules_text(projects: dict[int, Path]) -> None:
    folder = projects[SMALL]
    for env in sorted(p for p in folder.iterdir() if p.is_dir()):
        real = _rules(env / "_slo.rules.yml")
        covered: dict[tuple[str, str], set[str]] = {key: set() for key in real}
        for path in sorted(env.glob("*.slice-rules.yml")):
            for key, rule in _rules(path).items():
                assert key in real, f"{path.name}: {key} is not a rule of _slo.rules.yml"
                extra = {k: v for k, v in rule.items() if k != "expr"}
                assert extra == {k: v for k, v in real[key].items() if k != "expr"}, f"{path.name}: {key}"
                lines, real_lines = _lines(rule), _lines(real[key])
                assert lines <= real_lines, f"{path.name}: {key}: not in the real rule: {lines - real_lines}"
                covered[key] |= lines
        for key, rule in real.items():
            if key[0] == ROUTE_INFO:
                continue
            missing = {line for line in _lines(rule) - covered[key] if not PACKED_ROW.match(line)}
            assert not missing, f"{env.name}: {key}: no test loads {sorted(missing)[:3]}"


def test_promtool_passes_every_generated_test_file(projects: dict[int, Path]) -> None:
    promtool = require_tool("promtool")
    files = sorted(projects[SMALL].rglob("*.rules.test.yml"))
    assert len(files) > 3 * 10

    failures = promtool_tests_failing(promtool, files)
    assert not failures, "\n\n".join(failures)
