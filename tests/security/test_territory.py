"""The territory's notion of "a file mlgitops generated" matches what the targets really write:
otherwise a stale generated file could never be pruned (or a user's file could)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compile_helpers import EXAMPLE_IDS, EXAMPLES
from mlgitops.emit.territory import HEADER_START, JSON_MARKER, Territory, has_generated_header
from mlgitops.targets.base import HEADER


def test_the_header_prefix_is_the_targets_header() -> None:
    assert HEADER.split("{", 1)[0].encode() == HEADER_START


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_every_generated_file_is_in_the_territory_and_carries_its_header(example: Path) -> None:
    manifest = json.loads((example / ".mlgitops/manifest.json").read_bytes())
    output = "deploy"
    territory = Territory.of(output, ["mlgitops.yaml"])
    assert manifest["files"]
    for relative in manifest["files"]:
        assert territory.refusal(relative) is None, relative
        assert has_generated_header(relative, (example / relative).read_bytes()), relative


@pytest.mark.parametrize(
    ("relative", "data", "ours"),
    [
        ("deploy/dashboards/team.json", b"{}\n", False),
        ("deploy/dashboards/team.json", json.dumps({"title": JSON_MARKER}).encode(), False),
        ("deploy/dashboards/team.json", json.dumps({"description": f"x {JSON_MARKER}y"}).encode(), True),
        ("deploy/dashboards/team.json", b"[" * 100_000, False),
        ("deploy/dev/x.yaml", b"kind: Mine\n", False),
        ("deploy/dev/x.yaml", HEADER_START + b"models/a.yaml. Do not edit.\n", True),
        ("deploy/README.md", HEADER_START, False),
    ],
)
def test_what_counts_as_generated(relative: str, data: bytes, ours: bool) -> None:
    assert has_generated_header(relative, data) is ours
