"""The bundled examples validate with no diagnostics and point editors at the right schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mlgitops.diagnostics import Diagnostic
from mlgitops.discover import DEFAULT_INCLUDE, find_models, find_project
from mlgitops.load import load_document
from mlgitops.pipeline import validate_project

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/mlgitops.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+)$")
SCHEMA_FOR_KIND = {
    "Project": {"project.v1.json", "mlgitops.v1.json"},
    "Model": {"model.v1.json", "mlgitops.v1.json"},
}


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def _shown(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"{d.location}: {d.severity.value} {d.code}: {d.message}" for d in diagnostics)


def _spec_files(example: Path) -> list[Path]:
    """The project file and the model files its include patterns select."""
    files, problems = find_project(example)
    assert files is not None, _shown(problems)
    project, _ = load_document(files.project_file, "mlgitops.yaml")
    assert project is not None
    spec = project.data.get("spec")
    include = spec.get("include", DEFAULT_INCLUDE) if isinstance(spec, dict) else DEFAULT_INCLUDE
    models, problems = find_models(files, tuple(include), project.location())
    assert not problems, _shown(problems)
    return [files.project_file, *models]


def test_all_examples_are_present() -> None:
    assert {"quickstart", "platform", "gitlab-flux-k8s"} <= {path.name for path in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_validates_without_any_diagnostic(example: Path) -> None:
    result = validate_project(example)
    assert result.diagnostics == [], _shown(result.diagnostics)
    assert result.resolved is not None and result.resolved.deployments


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_files_carry_a_modeline_to_the_schema_of_their_kind(example: Path) -> None:
    for path in _spec_files(example):
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        match = MODELINE.match(first_line)
        assert match, f"{path}: first line is not a yaml-language-server modeline: {first_line!r}"
        schema = (path.parent / match["path"]).resolve()
        assert schema.is_file(), f"{path}: modeline points at {schema}, which does not exist"
        assert schema.parent == SCHEMAS, f"{path}: modeline points outside {SCHEMAS}"
        doc, problems = load_document(path, path.name)
        assert doc is not None, _shown(problems)
        assert schema.name in SCHEMA_FOR_KIND[str(doc.data["kind"])], f"{path}: wrong schema {schema.name}"


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_files_satisfy_the_schema_their_modeline_names(example: Path) -> None:
    """What an editor would check while typing agrees with `validate`."""
    for path in _spec_files(example):
        match = MODELINE.match(path.read_text(encoding="utf-8").splitlines()[0])
        assert match
        schema = json.loads((path.parent / match["path"]).read_text(encoding="utf-8"))
        doc, _ = load_document(path, path.name)
        assert doc is not None
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(doc.data)
        ]
        assert not errors, f"{path}:\n" + "\n".join(errors)
