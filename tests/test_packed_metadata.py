"""The packed metadata series (``packing.packed``, and the terms grouped by value of
``prometheus_shapes.by_value``): Prometheus records exactly the labels and values the rows hold,
whatever the free-text last field contains (``|``, ``$`` group references, quotes, backslashes, a
line break), and an empty field sets no label."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

import packed_series
from conftest import require_tool
from mlgitops import ir
from mlgitops.targets.monitoring.packing import packed, packed_parts
from mlgitops.targets.monitoring.prometheus_shapes import by_value

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
    _assert_records_the_rows(tmp_path, [packed(FIELDS, ROWS)])


def test_promtool_records_the_rows_of_a_packed_union_cut_into_several_rules(tmp_path: Path) -> None:
    """A large environment's metadata is several rules of one name (``packed_parts``: the API
    server takes no object over about 1.5 MiB, and one rule is never cut between objects): between
    them they record every row, as the one rule does."""
    parts = packed_parts(FIELDS, ROWS, budget=1)
    assert len(parts) == len(ROWS)
    assert packed_parts(FIELDS, ROWS) == [packed(FIELDS, ROWS)]
    assert packed_parts(FIELDS, []) == []
    _assert_records_the_rows(tmp_path, parts)


def _assert_records_the_rows(tmp_path: Path, expressions: list[str]) -> None:
    """promtool accepts a group of one rule ``meta`` per expression, and records ``ROWS`` from them."""
    promtool = require_tool("promtool")
    rules = {"groups": [{"name": "meta", "rules": [{"record": "meta", "expr": e} for e in expressions]}]}
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
    for command in (["check", "rules", "rules.yml"], ["test", "rules", "test.yml"]):
        run = subprocess.run([promtool, *command], cwd=tmp_path, capture_output=True, text=True, check=False)
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


def test_promtool_records_the_terms_grouped_by_value(tmp_path: Path) -> None:
    """``prometheus_shapes.by_value`` (the routing series): a series of value 1 per model, whatever
    series the source holds for it (here two each), labelled with its text exactly, the empty text
    setting no label; a model the source lacks, or of another environment, records nothing."""
    promtool = require_tool("promtool")
    env = ir.Environment("prod", "ml-prod", None, False, 0)
    texts = {"risk-model": HOSTILE, "pricing-model": HOSTILE, "fraud-model": "", "churn-model": "team-a"}
    rules = {
        "groups": [
            {"name": "route", "rules": [{"record": "route", "expr": by_value("owner", texts, ["src"], env)}]}
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    sources = [
        f'src{{environment="{environment}", model="{model}", slo="{slo}"}}'
        for environment in ("prod", "dev")
        for model in ("risk-model", "pricing-model", "fraud-model")
        for slo in ("availability", "latency")
    ]
    labels = {model: {"model": model, "owner": texts[model]} for model in texts}
    expected = [
        {"labels": f"route{_promql_labels({k: v for k, v in labels[model].items() if v})}", "value": 1}
        for model in ("fraud-model", "pricing-model", "risk-model")
    ]
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": "1x2"} for s in sources],
                "promql_expr_test": [{"expr": "route", "eval_time": "1m", "exp_samples": expected}],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    run = subprocess.run(
        [promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    decoded = sorted(packed_series.series(by_value("owner", texts, ["src"], env)), key=str)
    assert decoded == sorted((("1", {k: v for k, v in labels[m].items() if v}) for m in texts), key=str)
