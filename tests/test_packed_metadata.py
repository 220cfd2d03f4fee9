"""The packed metadata series (``prometheus_sli.packed``): Prometheus records exactly the labels
and values the rows hold, whatever the free-text last field contains (``|``, ``$`` group
references, quotes, backslashes, a line break), and an empty field sets no label."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

import packed_series
from conftest import require_tool
from mlgitops.targets.monitoring.prometheus_sli import packed

FIELDS = ("model", "slo", "threshold", "runbook_url")
HOSTILE = 'https://x.example/a|b?$1&${model}$$"\\\n{{ .Value }}|'
ROWS = [
    ("0.001", ("risk-model", "availability", "", HOSTILE)),
    ("0.01", ("risk-model", "latency", "250ms", "")),
    ("1", ("pricing-model", "latency", "1s", "https://runbooks.example/pricing")),
]


def _promql_labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "}"  # JSON escapes are Go's


def expected_series() -> list[dict[str, str]]:
    return [
        {
            "labels": f"meta{_promql_labels({f: t for f, t in zip(FIELDS, texts, strict=True) if t})}",
            "value": float(value),
        }
        for value, texts in ROWS
    ]


def test_promtool_records_the_packed_rows(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules = {"groups": [{"name": "meta", "rules": [{"record": "meta", "expr": packed(FIELDS, ROWS)}]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [],
                "promql_expr_test": [{"expr": "meta", "eval_time": "1m", "exp_samples": expected_series()}],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    run = subprocess.run(
        [promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_test_reader_agrees() -> None:
    """tests/packed_series.py, which other tests read the rules with, decodes the same rows."""
    decoded = packed_series.series(packed(FIELDS, ROWS))
    assert decoded == [
        (value, {f: t for f, t in zip(FIELDS, texts, strict=True) if t}) for value, texts in ROWS
    ]


def test_a_separator_outside_the_last_field_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        packed(FIELDS, [("1", ("a|b", "availability", "", ""))])
