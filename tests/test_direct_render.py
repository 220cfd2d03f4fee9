"""Built-in templates write canonical YAML directly (``render/direct.py``, issue 14).

The direct text skips the parse back and re-emit that every override template goes through,
so it must be exactly what that path writes. Proved here two ways:

* every built-in template, rendered over the examples and the generated benchmark project (and
  its variants for what it leaves out: plain rule files, the Istio router), gives text that is
  its own parse-back-and-canonical-emit and equals the parse-back path's text; a template edit
  that breaks canonical form (a quoted word that could be plain, a flow mapping, a comment, a
  blank line) fails here, not in a user's repository;
* values that test canonical spelling (numbers, booleans and null as text, YAML 1.1 words,
  multi-line texts of every shape, unicode, controls, empty and nested collections, keys that
  need quotes) give the same text on both paths.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from compile_helpers import EXAMPLES, ROOT, as_subproject, copy_specs, edit_yaml, example
from mlgitops.compile import templates_dir
from mlgitops.pipeline import check_project
from mlgitops.render import yamlout
from mlgitops.render.canonical import parse_rendered
from mlgitops.render.engine import Engine, RenderError, TemplateSource, Trusted
from mlgitops.targets import shared_labels

REFERENCE = sorted(path.parent for path in (ROOT / "examples" / "reference").glob("*/mlgitops.yaml"))
BENCHMARK_MODELS = 30  # every feature of generate.py appears once N >= 9
# Built-in templates read another way: ``init`` ones are the scaffold's text, the dashboard is
# read as data for its JSON (``RenderContext.data``).
NOT_YAML_FILES = {"grafana/dashboard.yaml.j2"}


def _parse_back(engine: Engine, name: str, context: Mapping[str, Any]) -> str:
    return yamlout.dump_documents(engine.render_data(name, context))


class Recorder:
    """Wraps ``Engine.render_yaml``: each direct render is compared with the parse-back path
    (with the labels a kustomization sets written, then left out of the parsed documents by
    ``shared_labels.leave_to_kustomization``, the path an override template takes)."""

    def __init__(self) -> None:
        self.rendered: set[str] = set()
        self.mismatches: dict[str, tuple[str, str]] = {}
        self.labelled: set[str] = set()
        self.annotated: set[str] = set()

    def wrap(self, original: Any) -> Any:
        def render_yaml(engine: Engine, name: str, context: Mapping[str, Any], leave: Any = None) -> str:
            text = original(engine, name, context, leave)
            assert engine.writes_directly, f"{name}: a project without overrides is parsed back"
            self.rendered.add(name)
            canonical = yamlout.dump_documents(parse_rendered(text))
            documents = engine.render_data(name, context)
            if leave is not None:
                assert isinstance(leave, shared_labels.LeftOut)
                shared_labels.leave_to_kustomization(documents, leave.labels, name, leave.annotations)
                self.labelled.add(name)
                if leave.annotations:
                    self.annotated.add(name)
            slow = yamlout.dump_documents(documents)
            for expected in (canonical, slow):
                if text != expected and name not in self.mismatches:
                    self.mismatches[name] = (text, expected)
            return text

        return render_yaml


def _included(templates: Path) -> set[str]:
    """Templates only ever included by others (their text is checked inside the includer's)."""
    pattern = re.compile(r'{%-?\s*include\s+"([^"]+)"')
    return {
        match
        for path in templates.rglob("*.j2")
        for match in pattern.findall(path.read_text(encoding="utf-8"))
    }


@pytest.fixture(scope="module")
def benchmark_projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("direct")
    bench = base / "benchmark"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), str(BENCHMARK_MODELS), str(bench)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    files = copy_specs(bench, base / "rule-files")
    edit_yaml(files / "mlgitops.yaml", lambda d: d["spec"].update(prometheus={"format": "files"}))
    istio = copy_specs(bench, base / "istio")
    edit_yaml(
        istio / "mlgitops.yaml",
        lambda d: d["spec"].update(
            traffic={"router": "istio", "gateway": {"name": "public", "namespace": "gw"}}
        ),
    )
    # GitLab's root file, which includes the project's, is written for a project below its repository root
    repository = base / "repository"
    subprocess.run(["git", "init", "-q", str(repository)], check=True, timeout=60)
    gitlab = as_subproject(copy_specs(example("gitlab-flux-k8s"), repository / "ml"))
    return [bench, files, istio, gitlab]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    record = Recorder()
    monkeypatch.setenv("MLGITOPS_JOBS", "1")  # every render in this process, where the wrapper records
    monkeypatch.setattr(Engine, "render_yaml", record.wrap(Engine.render_yaml))
    yield record


def test_every_builtin_template_writes_canonical_text(
    recorder: Recorder, benchmark_projects: list[Path]
) -> None:
    for root in [*EXAMPLES, *REFERENCE, *benchmark_projects]:
        result = check_project(root)
        assert result.ok, f"{root.name}: " + "; ".join(d.message for d in result.diagnostics)
    shown = {
        name: "\n".join(
            line
            for line in difflib.unified_diff(
                expected.splitlines(), text.splitlines(), "parse-back", "direct", lineterm="", n=1
            )
        )[:2000]
        for name, (text, expected) in recorder.mismatches.items()
    }
    assert not shown, "built-in templates not in canonical form:\n" + "\n\n".join(
        f"{name}:\n{diff}" for name, diff in shown.items()
    )
    templates = templates_dir()
    builtin = {
        path.relative_to(templates).as_posix()
        for path in templates.rglob("*.j2")
        if path.relative_to(templates).parts[0] != "init"
    }
    expected = builtin - _included(templates) - NOT_YAML_FILES
    assert expected - recorder.rendered == set(), "built-in templates these projects never render"
    # the labels an environment's kustomization sets were left out of the text of every kind of
    # file in an environment (the serving, route, monitor, rule and drift templates among them)
    assert {
        "kserve/inferenceservice.yaml.j2",
        "kubernetes/deployment.yaml.j2",
        "gateway/httproute.yaml.j2",
        "prometheus/podmonitor.yaml.j2",
        "prometheus/prometheusrule.yaml.j2",
        "drift/cronjob.yaml.j2",
    } <= recorder.labelled
    # and the annotations a model directory's kustomization sets, from every kind of its files
    assert {
        "kserve/inferenceservice.yaml.j2",
        "kubernetes/service.yaml.j2",
        "gateway/httproute.yaml.j2",
        "prometheus/podmonitor.yaml.j2",
        "prometheus/prometheusrule.yaml.j2",
        "drift/cronjob.yaml.j2",
    } <= recorder.annotated


def _engine(tmp_path: Path, template: str, **overrides: str) -> Engine:
    builtin = tmp_path / "templates"
    (builtin / "t").mkdir(parents=True, exist_ok=True)
    (builtin / "t" / "doc.yaml.j2").write_text(template, encoding="utf-8")
    if overrides:
        return Engine(TemplateSource(builtin, tmp_path / "overrides", overrides))
    return Engine(TemplateSource(builtin))


TRICKY_TEXTS = [
    *("1", "1.0", "1e3", "0x1F", "0777", "1_000", "-1", ".5", "+1", "1.10", "2026-11-01"),
    *("true", "False", "yes", "No", "on", "OFF", "y", "N", "null", "Null", "~", ""),
    *("plain", "with space", "a: b", "- item", "#hash", "key #x", "&anchor", "*alias", "!tag"),
    *("%directive", "@at", "`tick", "[flow]", "{flow}", "a,b", 'quote"s', "back\\slash", "'single'"),
    *("ünïcødé", "日本語", "emoji 🚀", "\u00a0nbsp", "tab\there", "nul\x00", "bell\x07", "\u2028sep"),
    *("\ufeffbom", "del\x7f", "c1\x85", "cr\r\nlf", "${{ secrets.X }}", "{{ $labels.model }}"),
    *("line one\nline two", "trailing\n", "two trailing\n\n", " leading space\nx", "\nleading nl"),
    *("a\n\nb\n", "a\n  indented\n", "x" * 100, "y " * 60 + "\nz", "é" * 70, "\t\n"),
]
TRICKY_VALUES: list[Any] = [
    *TRICKY_TEXTS,
    *(0, -7, 10**20, 1.5, 1e-05, 1e16, float("inf"), float("-inf"), True, False, None),
    {},
    [],
    {"a": {}, "b": [], "c": [[], {}], "d": [[1, [2, "x\ny"]], {"k": "v\n"}]},
    {"1": "one", "true": "t", "with space": "s", "ü": "u", "a: b": "c", "": "empty key"},
    [{"name": "tmp", "emptyDir": {}}, {"multi": "l1\nl2\n", "n": None}],
    [["nested", ["deeper", {"k": ["v"]}]]],
    ("tuple", 1),
    {"text": Trusted("${{ github.token }}")},
    # written as they are, not copied first: what the copy would have made of them
    {"text": Trusted("line one\nline two\n"), "items": [Trusted("a\nb"), Trusted("plain")]},
    {1: "int key", False: "bool key", 2.5: ("tuple", ("in", "tuple"))},
    {"view": MappingProxyType({"k": ["v", MappingProxyType({})]}), "empty": MappingProxyType({})},
]
ROOT_TEMPLATE = "{= value =}\n"
TEMPLATE = """\
kind: Test
scalar: {= value =}
"quoted key": {= value =}
list:
  - {= value =}
  - - {= value =}
  - key: {= value =}
    other: {= value =}
nested:
  deeper:
    - name: x
      value: {= value =}
"""


@pytest.mark.parametrize("value", TRICKY_VALUES, ids=lambda v: repr(v)[:30])
def test_values_are_spelled_as_the_parse_back_spells_them(tmp_path: Path, value: Any) -> None:
    engine = _engine(tmp_path, TEMPLATE)
    direct = engine.render_yaml("t/doc.yaml.j2", {"value": value})
    assert direct == _parse_back(engine, "t/doc.yaml.j2", {"value": value})
    assert yamlout.dump_documents(parse_rendered(direct)) == direct
    if (isinstance(value, dict | list | tuple) and value) or (isinstance(value, str) and "\n" in value):
        root = _engine(tmp_path, ROOT_TEMPLATE)  # a whole document written as one value
        direct = root.render_yaml("t/doc.yaml.j2", {"value": value})
        assert direct == _parse_back(root, "t/doc.yaml.j2", {"value": value})


def test_the_target_escape_applies_on_the_direct_path(tmp_path: Path) -> None:
    builtin = tmp_path / "templates"
    (builtin / "t").mkdir(parents=True)
    (builtin / "t" / "doc.yaml.j2").write_text(
        "a: {= text =}\nb: {= mapping =}\nc: {= trusted =}\n", encoding="utf-8"
    )
    engine = Engine(TemplateSource(builtin), escape=lambda text: text.replace("$", "$$"))
    context = {"text": "$X", "mapping": {"k": ["$Y\n$Z"]}, "trusted": Trusted("$T")}
    direct = engine.render_yaml("t/doc.yaml.j2", context)
    assert direct == 'a: "$$X"\nb:\n  k:\n    - |-\n      $$Y\n      $$Z\nc: "$T"\n'
    assert direct == _parse_back(engine, "t/doc.yaml.j2", context)


@pytest.mark.parametrize(
    "template",
    [
        'a: "{= value =}"\n',  # inside a quoted text
        "a: x {= value =}\n",  # after other text
        "a: {= value =} # note\n",  # not the end of its line
        "a: [{= value =}]\n",  # in a flow collection
        "{= value =}: x\n",  # a key
    ],
)
def test_a_block_value_where_no_block_can_stand_is_an_error(tmp_path: Path, template: str) -> None:
    engine = _engine(tmp_path, template)
    for value in ({"k": "v"}, ["v"], "two\nlines"):
        with pytest.raises(RenderError, match=r"whole YAML value|must follow"):
            engine.render_yaml("t/doc.yaml.j2", {"value": value})


def test_spec_text_cannot_forge_a_placeholder(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "a: {= value =}\nb: {= other =}\n")
    with pytest.raises(RenderError, match="U\\+E000"):
        engine.render_yaml("t/doc.yaml.j2", {"value": "\ue000deadbeefdeadbeef:0\ue001", "other": {"k": 1}})


def test_with_an_override_every_template_is_parsed_back_in_the_sandbox(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "kind: {= value =}\n", **{"t/other.yaml.j2": "a: 1\n"})
    assert not engine.writes_directly
    assert type(engine.env).__name__ == "ImmutableSandboxedEnvironment"
    # the built-in template's text is parsed back (and so made canonical) on this path
    assert engine.render_yaml("t/doc.yaml.j2", {"value": "yes"}) == 'kind: "yes"\n'
    overriding = _engine(tmp_path, "kind: x\n", **{"t/doc.yaml.j2": "kind:   'spaced'\n"})
    assert overriding.render_yaml("t/doc.yaml.j2", {}) == "kind: spaced\n"
