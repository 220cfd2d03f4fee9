"""Each example's compiled output is committed, and in sync with its specs.

The check is `mlgitops check` on the real example directory: nothing may be
edited by hand, missing, or stale.  When the specs, the templates or mlgitops
change on purpose, refresh the committed output with `make golden`
(``MLGITOPS_UPDATE_GOLDEN=1`` makes this test compile the examples in place).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from compile_helpers import EXAMPLE_IDS, EXAMPLES
from mlgitops.pipeline import check_project, compile_project
from mlgitops.results import CompileResult

pytestmark = pytest.mark.golden

UPDATE = os.environ.get("MLGITOPS_UPDATE_GOLDEN") == "1"
MAX_DIFF_CHARS = 6000


def _diagnostics(result: CompileResult) -> str:
    return "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)


@pytest.mark.parametrize("project", EXAMPLES, ids=EXAMPLE_IDS)
def test_committed_output_is_in_sync(project: Path) -> None:
    if UPDATE:
        result = compile_project(project, use_cache=False)
        assert result.ok, f"{project.name} does not compile:\n{_diagnostics(result)}"
        return
    result = check_project(project)
    assert result.ok, f"{project.name} does not compile:\n{_diagnostics(result)}"
    assert (project / ".mlgitops/manifest.json").is_file(), (
        f"examples/{project.name} has no committed output: run `make golden` and commit it"
    )
    if result.drift:
        listing = "\n".join(f"  {d.status:8} {d.path}" for d in result.drift)
        diffs = "".join(d.diff for d in result.drift)
        if len(diffs) > MAX_DIFF_CHARS:
            diffs = diffs[:MAX_DIFF_CHARS] + "\n... (diff cut short)\n"
        pytest.fail(
            f"the committed output of examples/{project.name} is out of date:\n{listing}\n\n{diffs}\n"
            "run `make golden` (or MLGITOPS_UPDATE_GOLDEN=1 pytest -m golden), review and commit the result",
            pytrace=False,
        )


@pytest.mark.parametrize("project", EXAMPLES, ids=EXAMPLE_IDS)
def test_committed_output_covers_every_environment(project: Path) -> None:
    """The golden tree is complete: a kustomization per environment, listed in the manifest."""
    spec = yaml.safe_load((project / "mlgitops.yaml").read_text(encoding="utf-8"))
    manifest = json.loads((project / ".mlgitops/manifest.json").read_bytes())
    for env in spec["spec"]["environments"]:
        assert f"deploy/{env['name']}/kustomization.yaml" in manifest["files"]
    for path in manifest["files"]:
        assert (project / path).is_file(), f"examples/{project.name}/{path} is listed but not committed"
