"""Override templates: a project may replace one built-in template; a broken one gets a located error.

``spec.templates: overrides`` makes ``overrides/<target>/<name>.j2`` win over the
built-in ``templates/<target>/<name>.j2``.  Templates run in Jinja's immutable
sandbox with ``StrictUndefined``; any failure is MLG503 at the override's file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from compile_helpers import copy_specs, edit_yaml, example, tree
from mlgitops.compile import templates_dir
from mlgitops.diagnostics import Diagnostic
from mlgitops.emit.manifest import MANIFEST_PATH
from mlgitops.pipeline import compile_project
from mlgitops.render.engine import Engine, TemplateSource
from mlgitops.results import CompileResult

TEMPLATE = "kserve/inferenceservice.yaml.j2"
OVERRIDE = f"overrides/{TEMPLATE}"
ISVC_FILES = [f"deploy/{env}/iris-classifier/inferenceservice.yaml" for env in ("dev", "staging", "prod")]
BUILTIN_TEXT = (templates_dir() / TEMPLATE).read_text(encoding="utf-8")
ANNOTATIONS_LINE = "  annotations: {= annotations =}\n"


def project(tmp_path: Path, template_text: str | None, *, templates: str = "overrides") -> Path:
    """A quickstart copy whose project names ``templates`` and holds ``template_text`` as the override."""
    root = copy_specs(example("quickstart"), tmp_path / "project")
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(templates=templates))
    if template_text is not None:
        (root / OVERRIDE).parent.mkdir(parents=True)
        (root / OVERRIDE).write_text(template_text, encoding="utf-8")
    return root


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line holding ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def only_error(result: CompileResult, code: str) -> Diagnostic:
    assert not result.ok
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    assert [d.code for d in errors] == [code], [f"{d.location}: {d.code} {d.message}" for d in errors]
    return errors[0]


def assert_nothing_generated(root: Path) -> None:
    assert not (root / "deploy").exists()
    assert not (root / MANIFEST_PATH).exists()


def test_the_builtin_template_has_the_line_the_overrides_edit() -> None:
    assert ANNOTATIONS_LINE in BUILTIN_TEXT


def test_an_override_changes_its_own_output_and_nothing_else(tmp_path: Path) -> None:
    plain = copy_specs(example("quickstart"), tmp_path / "plain")
    assert compile_project(plain).ok
    edited = BUILTIN_TEXT.replace(
        ANNOTATIONS_LINE,
        '  annotations: {= dict(annotations, **{"acme.com/reviewed-by": "platform-team"}) =}\n',
    )
    root = project(tmp_path, edited)
    result = compile_project(root)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]

    before, after = tree(plain), tree(root)
    for path in ISVC_FILES:
        original = yaml.safe_load(before[path])
        original["metadata"]["annotations"]["acme.com/reviewed-by"] = "platform-team"
        assert yaml.safe_load(after[path]) == original
    others = sorted(p for p in before if p.startswith("deploy/") and p not in ISVC_FILES)
    assert others, "expected kustomizations, namespaces and Argo CD applications"
    for path in others:
        assert after[path] == before[path], f"{path} changed although only {TEMPLATE} was overridden"


def test_an_override_for_an_unused_target_changes_nothing(tmp_path: Path) -> None:
    plain = copy_specs(example("quickstart"), tmp_path / "plain")
    assert compile_project(plain).ok
    root = project(tmp_path, None)
    (root / "overrides/flux").mkdir(parents=True)
    (root / "overrides/flux/kustomization.yaml.j2").write_text("{% this is not even valid %}\n")
    assert compile_project(root).ok
    deploy = {p: d for p, d in tree(root).items() if p.startswith("deploy/")}
    assert deploy == {p: d for p, d in tree(plain).items() if p.startswith("deploy/")}


def test_whitespace_in_an_override_does_not_change_the_bytes(tmp_path: Path) -> None:
    plain = copy_specs(example("quickstart"), tmp_path / "plain")
    assert compile_project(plain).ok
    sloppy = BUILTIN_TEXT.replace("name: {= d.model =}", "name:      {=d.model=}   ").replace(
        "apiVersion: serving.kserve.io/v1beta1", "apiVersion:   'serving.kserve.io/v1beta1'   # a comment"
    )
    assert sloppy != BUILTIN_TEXT
    root = project(tmp_path, sloppy)
    assert compile_project(root).ok
    for path in ISVC_FILES:
        assert tree(root)[path] == tree(plain)[path]


def test_a_syntax_error_is_located_in_the_override(tmp_path: Path) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + "{% if %}\n")
    root = project(tmp_path, broken)
    diagnostic = only_error(compile_project(root), "MLG503")
    assert diagnostic.location is not None
    assert (diagnostic.location.file, diagnostic.location.line) == (OVERRIDE, line_of(broken, "{% if %}"))
    assert "syntax" in diagnostic.message
    assert_nothing_generated(root)


def test_an_undefined_name_is_located_in_the_override(tmp_path: Path) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + "  owner: {= d.no_such_field =}\n")
    root = project(tmp_path, broken)
    diagnostic = only_error(compile_project(root), "MLG503")
    assert diagnostic.location is not None
    assert (diagnostic.location.file, diagnostic.location.line) == (
        OVERRIDE,
        line_of(broken, "no_such_field"),
    )
    assert "no_such_field" in diagnostic.message
    assert_nothing_generated(root)


def test_an_unknown_variable_is_located_in_the_override(tmp_path: Path) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + "  team: {= team_name =}\n")
    diagnostic = only_error(compile_project(project(tmp_path, broken)), "MLG503")
    assert diagnostic.location is not None
    assert (diagnostic.location.file, diagnostic.location.line) == (OVERRIDE, line_of(broken, "team_name"))
    assert "team_name" in diagnostic.message


def test_invalid_yaml_from_an_override_is_reported_against_it(tmp_path: Path) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + "  : : [unclosed\n")
    root = project(tmp_path, broken)
    diagnostic = only_error(compile_project(root), "MLG503")
    assert diagnostic.location is not None
    assert diagnostic.location.file == OVERRIDE
    assert diagnostic.location.line >= 1
    assert "invalid YAML" in diagnostic.message
    assert_nothing_generated(root)


def test_a_duplicate_key_from_an_override_is_refused(tmp_path: Path) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + "  name: again\n")
    diagnostic = only_error(compile_project(project(tmp_path, broken)), "MLG503")
    assert diagnostic.location is not None and diagnostic.location.file == OVERRIDE


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "''.__class__.__mro__[1].__subclasses__()",
        "d.__class__",
        "cycler.__init__.__globals__",
        "lipsum.__globals__",
        "k8s_env.__globals__",
        "[].append(1)",
        "{}.update(a=1)",
        "'{0.__class__.__mro__}'.format(d)",
        "'{0.__init__.__globals__}'.format_map([d])",
        "range(10 ** 9) | list",
    ],
)
def test_the_sandbox_refuses_escapes(tmp_path: Path, expression: str) -> None:
    broken = BUILTIN_TEXT.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE + f"  owner: {{= {expression} =}}\n")
    root = project(tmp_path, broken)
    diagnostic = only_error(compile_project(root), "MLG503")
    assert diagnostic.location is not None and diagnostic.location.file == OVERRIDE
    assert diagnostic.location.line == line_of(broken, expression)
    assert any(word in diagnostic.message for word in ("SecurityError", "unsafe", "Overflow", "range")), (
        diagnostic.message
    )
    assert_nothing_generated(root)


def test_every_template_is_sandboxed_once_one_is_overridden(tmp_path: Path) -> None:
    """Built-in templates are ours and run unsandboxed (the sandbox costs a fifth of a render);
    with an override, the built-in ones share its environment, which is the sandbox, since an
    override may include or import them and they it."""
    builtin_only = Engine(TemplateSource(templates_dir()))
    overridden = Engine(TemplateSource(templates_dir(), tmp_path, {TEMPLATE: BUILTIN_TEXT}))
    assert not isinstance(builtin_only.env, SandboxedEnvironment)
    assert isinstance(overridden.env, SandboxedEnvironment)
    escape = "{= ''.__class__.__name__ =}"
    assert builtin_only.env.from_string(escape).render() == '"str"'  # what the sandbox is for
    with pytest.raises(Exception, match="unsafe"):
        overridden.env.from_string(escape).render()


@pytest.mark.parametrize("templates", ["../elsewhere", "/tmp", "no-such-dir", "mlgitops.yaml"])
def test_a_template_directory_outside_the_project_or_missing_is_refused(
    tmp_path: Path, templates: str
) -> None:
    (tmp_path / "elsewhere/kserve").mkdir(parents=True)
    (tmp_path / "elsewhere" / TEMPLATE).write_text(BUILTIN_TEXT, encoding="utf-8")
    root = project(tmp_path, None, templates=templates)
    diagnostic = only_error(compile_project(root), "MLG504")
    assert diagnostic.location is not None and diagnostic.location.file == "mlgitops.yaml"
    assert templates in diagnostic.message
    assert_nothing_generated(root)


def test_a_symlinked_template_directory_leading_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere/kserve").mkdir(parents=True)
    (tmp_path / "elsewhere" / TEMPLATE).write_text(BUILTIN_TEXT, encoding="utf-8")
    root = project(tmp_path, None, templates="overrides")
    (root / "overrides").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    only_error(compile_project(root), "MLG504")
    assert_nothing_generated(root)
