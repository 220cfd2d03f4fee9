"""Properties of ``validate`` on mutated specs.

Starting from a valid project that uses most of the language, hypothesis deletes and
renames keys, replaces values with random or hostile data, duplicates key lines and
inserts random bytes.  Whatever it does:

(a) validation returns diagnostics and never raises;
(b) every location is a real place in its file (line <= number of lines,
    column <= line length + 1);
(c) validating twice gives identical results.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgitops.codes import CODES
from mlgitops.diagnostics import Diagnostic, Location
from mlgitops.pipeline import validate_project
from mlgitops.results import ValidationResult

TODAY = datetime.date(2026, 1, 1)

PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata:
  name: acme-ml
  labels: {team: platform}
spec:
  repository: https://github.com/acme/ml-platform.git
  ci: github
  gitops: argocd
  serving: kserve
  traffic: {router: gateway-api, gateway: {name: public, namespace: gateways}}
  registry:
    kind: mlflow
    trackingUri: https://mlflow.acme.test
    credentials: {fromCiSecret: MLFLOW_TOKEN}
  environments:
    - name: dev
      namespace: ml-dev
    - name: staging
      namespace: ml-staging
      serving:
        annotations: {acme.test/tier: staging}
    - name: prod
      namespace: ml-prod
      approval: required
  policies:
    requireEvaluationGate: [prod]
    requireSLO: [prod]
    forbidMutableImageTags: [prod]
    requireApproval: [prod]
  defaults:
    serving:
      resources: {cpu: 500m, memory: 1Gi}
"""

MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: fraud-detector
  owner: risk-team
  description: Scores card transactions.
spec:
  data:
    - name: transactions
      uri: "s3://acme-data/transactions/"
      version: "2026-11-01"
  training:
    image: ghcr.io/acme/fraud-train:1.8.0
    command: [python, -m, fraud.train]
    params: {max_depth: 6, learning_rate: 0.1}
    env:
      MLFLOW_TRACKING_TOKEN: {fromCiSecret: MLFLOW_TOKEN}
    resources: {cpu: "4", memory: 16Gi}
    schedule: "0 3 * * 1"
  evaluation:
    gates:
      - {metric: auc, min: 0.92}
      - {metric: latency_p95_ms, max: 50}
  serving:
    runtime: sklearn
    artifact: "s3://acme-models/fraud-detector/{version}/"
    resources: {cpu: "1", memory: 2Gi}
    autoscaling: {minReplicas: 1, maxReplicas: 10, metric: concurrency, target: 10}
    env:
      LOG_LEVEL: info
      DB_PASSWORD:
        fromSecret: {name: fraud-db, key: password}
  deployments:
    dev:
      version: "1.5.0"
    staging:
      version: "1.5.0"
    prod:
      version: "1.4.2"
      canary: {version: "1.5.0", traffic: 10}
      autoscaling: {minReplicas: 3}
  monitoring:
    slos:
      availability: {objective: 99.9, window: 30d}
      latency: {objective: 99, threshold: 250ms}
    drift:
      schedule: "0 * * * *"
      features: [amount, merchant]
      method: psi
      threshold: 0.2
      image: r.acme.test/drift@sha256:2f0c8d7b1e6a5c4d3b2a19f8e7d6c5b4a3928171605f4e3d2c1b0a9f8e7d6c5b
    alerts: {route: risk-oncall, runbookUrl: "https://runbooks.acme.test/fraud"}
  lifecycle: {stage: active}
"""

FILES = {"mlgitops.yaml": PROJECT, "models/fraud-detector.yaml": MODEL}

HOSTILE = [
    "",
    " ",
    "${{ secrets.GITHUB_TOKEN }}",
    "{{ 7 * 7 }}",
    "$(rm -rf /)",
    "`id`",
    "a\nb: c",
    "key: value",
    "- item",
    "*alias",
    "&anchor",
    "!!python/object/apply:os.system ['id']",
    "---",
    "'",
    '"',
    "\\",
    "\x00",
    "\u2028",
    "\ufeff",
    "🚀",
    "../../etc/passwd",
    "AKIAIOSFODNN7EXAMPLE",
    "x" * 5000,
    "1.10",
    "yes",
    "null",
    "<<",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(HOSTILE),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)
key_names = st.one_of(
    st.sampled_from(["name", "version", "spec", "kind", "image", "runtime", "env", "<<", "deployments"]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=15),
)

Path_ = tuple[str | int, ...]


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every path to a value inside ``node`` (the root excluded)."""
    found: list[Path_] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        path = (*prefix, key)
        found.append(path)
        found.extend(_paths(child, path))
    return found


def _parent(data: Any, path: Path_) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


def _mutate(data: Any, path: Path_, operation: str, new_key: str, new_value: Any) -> None:
    parent, last = _parent(data, path), path[-1]
    if operation == "delete":
        del parent[last]
    elif operation == "replace":
        parent[last] = new_value
    elif operation == "rename" and isinstance(parent, dict):
        value = parent.pop(last)
        parent[new_key] = value
    elif operation == "insert" and isinstance(parent, dict):
        parent[new_key] = new_value
    elif isinstance(parent, list):
        parent.insert(int(last), new_value)


def _validate(files: dict[str, str | bytes]) -> tuple[ValidationResult, dict[str, bytes]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written: dict[str, bytes] = {}
        for name, content in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            raw = content.encode("utf-8") if isinstance(content, str) else content
            target.write_bytes(raw)
            written[name] = raw
        first = validate_project(root, today=TODAY)
        second = validate_project(root, today=TODAY)
    # (c) the same input gives the same output.
    assert first.diagnostics == second.diagnostics
    assert first.sources == second.sources
    return first, written


def _check_diagnostics(result: ValidationResult, written: dict[str, bytes]) -> None:
    for diagnostic in result.diagnostics:
        # (a) well-formed diagnostics with catalogued codes and fully formatted messages.
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.message, diagnostic
        assert not UNFORMATTED.search(diagnostic.message), diagnostic
        if diagnostic.location is not None:
            _check_location(diagnostic.location, result, written, diagnostic)


# Line breaks as YAML (libyaml) and editors count them; unlike str.splitlines(), not \v or \f.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# A message template placeholder that was never filled in, e.g. "{value!r}".
UNFORMATTED = re.compile(r"\{(?:value|shown|kind|problem|unknown|name)(?:![rs])?\}")


def _check_location(location: Location, result: ValidationResult, written: dict[str, bytes], d: Any) -> None:
    # (b) the location is inside the file it names.
    assert location.file in written, d
    text = result.sources.get(location.file)
    if text is None:
        text = written[location.file].decode("utf-8", errors="replace")
    lines = LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # a final line break does not start another line
    assert 1 <= location.line <= len(lines), (d, len(lines))
    assert 1 <= location.column <= len(lines[location.line - 1]) + 1, (d, lines[location.line - 1])


def _run(files: dict[str, str | bytes]) -> ValidationResult:
    result, written = _validate(files)
    _check_diagnostics(result, written)
    return result


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def test_base_project_is_valid() -> None:
    """The mutations start from a clean project, so what they find is theirs."""
    assert _run(dict(FILES)).diagnostics == []


@PROPERTY_SETTINGS
@given(
    target=st.sampled_from(sorted(FILES)),
    data=st.data(),
    operation=st.sampled_from(["delete", "replace", "rename", "insert"]),
    new_key=key_names,
    new_value=values,
)
def test_structural_mutations_yield_diagnostics_not_exceptions(
    target: str, data: st.DataObject, operation: str, new_key: str, new_value: Any
) -> None:
    tree = yaml.safe_load(FILES[target])
    path = data.draw(st.sampled_from(_paths(tree)), label="path")
    _mutate(tree, path, operation, new_key, new_value)
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=10_000)
    _run({**FILES, target: text})


@PROPERTY_SETTINGS
@given(target=st.sampled_from(sorted(FILES)), data=st.data())
def test_duplicated_key_line_is_reported(target: str, data: st.DataObject) -> None:
    lines = FILES[target].splitlines(keepends=True)
    # A "key: ..." line (not a list item): repeating it repeats the key in its mapping.
    candidates = [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith("-")]
    index = data.draw(st.sampled_from(candidates), label="line")
    text = "".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])
    result = _run({**FILES, target: text})
    duplicates = [d for d in result.diagnostics if d.code == "MLG104"]
    assert duplicates, result.diagnostics
    assert duplicates[0].location is not None
    assert duplicates[0].location.file == target
    assert duplicates[0].location.line == index + 2  # the repeated line


@PROPERTY_SETTINGS
@given(
    target=st.sampled_from(sorted(FILES)),
    data=st.data(),
    junk=st.binary(min_size=1, max_size=8),
)
def test_random_bytes_yield_diagnostics_not_exceptions(target: str, data: st.DataObject, junk: bytes) -> None:
    raw = FILES[target].encode("utf-8")
    offset = data.draw(st.integers(min_value=0, max_value=len(raw)), label="offset")
    _run({**FILES, target: raw[:offset] + junk + raw[offset:]})


# Pieces of YAML syntax, so that inserted text changes structure and not only scalars.
YAML_SYNTAX = [
    "---\n", "\n---", "---", "...\n", "? ", ": ", "- ", "\n- x", "&a ", "*a", "<<: *a\n", "!!str ",
    "!local ", "%YAML 1.2\n", "\t", "{", "}", "[", "]", ",", "#", "|\n", ">-\n", "'", '"', "\n  ", "\r",
    "\r\n", "\u2028", "\x85", "\ufeff", "key:", "\nkey: value\n",
]  # fmt: skip


@PROPERTY_SETTINGS
@given(
    target=st.sampled_from(sorted(FILES)),
    data=st.data(),
    pieces=st.lists(
        st.one_of(st.text(min_size=1, max_size=6), st.sampled_from(YAML_SYNTAX)), min_size=1, max_size=3
    ),
)
def test_random_text_yields_diagnostics_not_exceptions(
    target: str, data: st.DataObject, pieces: list[str]
) -> None:
    source, mutated = FILES[target], FILES[target]
    for piece in pieces:
        offset = data.draw(st.integers(min_value=0, max_value=len(mutated)), label="offset")
        mutated = mutated[:offset] + piece + mutated[offset:]
    assert mutated != source
    _run({**FILES, target: mutated})


@PROPERTY_SETTINGS
@given(data=st.data(), value=st.sampled_from(HOSTILE))
def test_hostile_strings_in_any_text_field(data: st.DataObject, value: str) -> None:
    """Every string of the model replaced by a hostile one: diagnostics, never a crash."""
    tree = yaml.safe_load(MODEL)
    strings = [p for p in _paths(tree) if isinstance(_parent(tree, p)[p[-1]], str)]
    path = data.draw(st.sampled_from(strings), label="path")
    _parent(tree, path)[path[-1]] = value
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=10_000)
    _run({**FILES, "models/fraud-detector.yaml": text})


def test_mutation_helpers_mutate() -> None:
    """Guard against a vacuous property: each operation really changes the tree."""

    def apply(operation: str) -> Any:
        tree = yaml.safe_load(MODEL)
        _mutate(tree, ("spec", "serving", "runtime"), operation, "runtim", 42)
        return tree["spec"]["serving"]

    assert "runtime" not in apply("delete")
    assert apply("replace")["runtime"] == 42
    assert "runtim" in apply("rename")
    assert "runtime" not in apply("rename")
    assert apply("insert")["runtim"] == 42


def test_unformatted_pattern_catches_templates() -> None:
    assert UNFORMATTED.search("spec.version: {value!r} is not a usable version")
    assert not UNFORMATTED.search("artifact 's3://m/{model}/latest/' has no {version} placeholder")
