"""No spec value can change the structure of a generated file.

Hostile strings (newlines, ``---``, ``: ``, ``#``, ``{{ }}``, ``{= =}``, ``${{ }}``,
``{% %}``, quotes, backslashes, emoji, right-to-left text, odd whitespace, 10 KB)
go into every free-text field of a small valid project.  The project is compiled
in memory and every output file parsed with PyYAML (a YAML 1.1 reader, as
Kubernetes and Argo CD use).  The parsed output must equal the output of the
same project with harmless placeholders, with each placeholder replaced by its
hostile string: the same files, the same documents, the same keys, and each
string exactly, as a whole scalar, where its placeholder was.

A model directory's ``kustomization.yaml`` sets the labels and annotations its objects share
(description, owner, spec labels): its inline AnnotationsTransformer, a YAML string, is
parsed as kustomize parses it and compared the same way. And so are the objects as Argo CD
and Flux apply them: each environment built by ``kubectl kustomize``.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mlgitops_drift import settings as drift_settings

import packed_series
from compile_helpers import kustomize_build
from conftest import require_tool
from mlgitops.ir.build import label_value
from mlgitops.pipeline import generate_files
from mlgitops.results import CompileResult
from mlgitops.targets.ci.github import escape as github_escape
from mlgitops.targets.ci.gitlab import escape as gitlab_escape
from mlgitops.targets.monitoring.packing import PACKED
from mlgitops.targets.monitoring.prometheus import escape as prometheus_escape

# field → where it goes in the specs; "project:" fields are in mlgitops.yaml.
FIELDS = (
    "description",
    "owner",
    "data_version",
    "training_arg",
    "training_param",
    "training_env",
    "runtime_version",
    "serving_command",
    "serving_arg",
    "serving_env",
    "deployment_env",
    "node_selector",
    "toleration_value",
    "annotation",
    "transformer_command",
    "transformer_arg",
    "transformer_env",
    "evaluation_command",
    "metrics_file",
    "drift_feature",
    "alerts_route",
    "lifecycle_reason",
    "project_description",
    "revision",
    "cluster",
)
# Fields that reach a serving or GitOps file today (monitoring and CI targets will add more).
RENDERED = {
    "kserve": {
        "description",
        "owner",
        "alerts_route",
        "runtime_version",
        "serving_command",
        "serving_arg",
        "serving_env",
        "deployment_env",
        "node_selector",
        "toleration_value",
        "annotation",
        "transformer_command",
        "transformer_arg",
        "transformer_env",
        "drift_feature",
        "revision",
        "cluster",
    },
    "kubernetes": {
        "description",
        "owner",
        "alerts_route",
        "serving_command",
        "serving_arg",
        "serving_env",
        "deployment_env",
        "node_selector",
        "toleration_value",
        "annotation",
        "drift_feature",
        "revision",
    },
}
OWNER_LABEL = "mlgitops.dev/owner"
pytestmark = pytest.mark.external  # kubectl kustomize

Parsed = dict[str, list[Any]]  # output file → its documents (applied: those built from it)


def placeholder(field: str) -> str:
    return f"zzplaceholder-{field.replace('_', '-')}"


def project_spec(v: dict[str, str], serving: str) -> dict[str, Any]:
    gitops = "argocd" if serving == "kserve" else "flux"
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Project",
        "metadata": {"name": "hostile", "description": v["project_description"]},
        "spec": {
            "repository": "https://github.com/acme/hostile.git",
            "revision": v["revision"],
            "serving": serving,
            "gitops": gitops,
            "registry": {"kind": "mlflow", "trackingUri": "https://mlflow.acme.internal"},
            "environments": [
                # Flux names a kubeconfig Secret (a DNS label, MLG324): no free text there.
                {
                    "name": "dev",
                    "namespace": "ml-dev",
                    "cluster": v["cluster"] if gitops == "argocd" else "dev-kubeconfig",
                },
                {"name": "prod", "namespace": "ml-prod"},
            ],
        },
    }


def model_spec(v: dict[str, str], serving: str) -> dict[str, Any]:
    autoscaling = {"minReplicas": 1, "maxReplicas": 3}
    model_serving: dict[str, Any] = {
        "runtime": "sklearn",
        "artifact": "s3://acme-models/{model}/{version}/",
        "command": [v["serving_command"]],
        "args": [v["serving_arg"], "--fixed"],
        "env": {"LOG_LEVEL": v["serving_env"], "SECRET_REF": {"fromSecret": {"name": "s", "key": "k"}}},
        "nodeSelector": {"acme.com/pool": v["node_selector"]},
        "tolerations": [
            {
                "key": "acme.com/taint",
                "operator": "Equal",
                "value": v["toleration_value"],
                "effect": "NoSchedule",
            }
        ],
        "annotations": {"acme.com/note": v["annotation"]},
        "autoscaling": autoscaling,
    }
    if serving == "kserve":  # the kubernetes target refuses both (MLG338)
        model_serving["runtimeVersion"] = v["runtime_version"]
        model_serving["transformer"] = {
            "image": "ghcr.io/acme/transformer:1.0.0",
            "command": [v["transformer_command"]],
            "args": [v["transformer_arg"]],
            "env": {"MODE": v["transformer_env"]},
        }
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {"name": "victim", "owner": v["owner"], "description": v["description"]},
        "spec": {
            "data": [{"name": "events", "uri": "s3://acme-data/events/", "version": v["data_version"]}],
            "training": {
                "image": "ghcr.io/acme/train:1.0.0",
                "args": [v["training_arg"]],
                "params": {"note": v["training_param"]},
                "env": {"NOTE": v["training_env"]},
            },
            "evaluation": {
                "gates": [{"metric": "auc", "min": 0.9}],
                "command": [v["evaluation_command"]],
                "metricsFile": v["metrics_file"],
            },
            "serving": model_serving,
            "deployments": {
                "dev": {"version": "1.0.0", "env": {"EXTRA": v["deployment_env"]}},
                "prod": {"version": "1.0.0"},
            },
            "monitoring": {
                "slos": {"availability": {"objective": 99.9}},
                "drift": {"features": [v["drift_feature"]], "threshold": 0.2},
                "alerts": {"route": v["alerts_route"]},
            },
            "lifecycle": {"stage": "active", "reason": v["lifecycle_reason"]},
        },
    }


class _QuotingDumper(yaml.CSafeDumper):
    """Every string double-quoted: PyYAML writes ``0e0`` plain, which a YAML 1.2 reader takes for a number."""


def _quoted(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')


_QuotingDumper.add_representer(str, _quoted)


def write(path: Path, data: dict[str, Any]) -> None:
    """Spec text by PyYAML's emitter (an independent writer), every non-ASCII character escaped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=_QuotingDumper, sort_keys=False, allow_unicode=False, width=1 << 30)
    path.write_text(text, encoding="utf-8")


def compile_in_memory(values: dict[str, str], serving: str) -> CompileResult:
    with tempfile.TemporaryDirectory(prefix="mlgitops-hostile-") as tmp:
        root = Path(tmp)
        write(root / "mlgitops.yaml", project_spec(values, serving))
        write(root / "models/victim.yaml", model_spec(values, serving))
        return generate_files(root)


def parsed(result: CompileResult) -> Parsed:
    # SETTINGS.md is Markdown: test_ci_tokens.py checks what spec text can do there.
    return {
        output.path: decode_packed(
            decode_transformers(decode_inputs(list(yaml.safe_load_all(output.content))))
        )
        for output in result.files
        if not output.path.endswith(".md")
    }


def applied(result: CompileResult, kubectl: str) -> Parsed:
    """The objects of each environment as Argo CD and Flux apply them: ``kubectl kustomize`` of
    its directory (whose kustomizations set the labels and annotations the objects' files leave
    out), each under the file it comes from (so that it is escaped as that file is)."""
    out: Parsed = {}
    with tempfile.TemporaryDirectory(prefix="mlgitops-hostile-applied-") as tmp:
        root = Path(tmp)
        for output in result.files:
            (root / output.path).parent.mkdir(parents=True, exist_ok=True)
            (root / output.path).write_text(output.content, encoding="utf-8")
        environments = sorted(path.parent for path in root.glob("*/*/kustomization.yaml"))
        assert len(environments) == 2, environments
        for env_dir in environments:
            origin = {}
            for path in sorted(env_dir.rglob("*.yaml")):
                for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                    if document.get("kind") != "Kustomization":  # no metadata: not an object
                        key = (document["kind"], document["metadata"]["name"])
                        origin[key] = path.relative_to(root).as_posix()
            for document in kustomize_build(kubectl, env_dir):
                path = origin[(document["kind"], document["metadata"]["name"])]
                out.setdefault(path, []).append(decode_packed(document))
    return out


def decode_inputs(documents: list[Any]) -> list[Any]:
    """A model's workflow passes its environment to the reusable pipeline as one JSON object
    (``with: env:``), whose values GitHub's escape has already made literal (``${{`` needs no
    JSON escaping, so the escape survives the encoding): decoded, each value is a whole scalar
    again, compared like any other."""
    for document in documents:
        jobs = document.get("jobs") if isinstance(document, dict) else None
        for job in (jobs or {}).values():
            inputs = job.get("with") if isinstance(job, dict) else None
            if isinstance(inputs, dict) and isinstance(inputs.get("env"), str):
                inputs["env"] = json.loads(inputs["env"])
    return documents


def decode_transformers(documents: list[Any]) -> list[Any]:
    """A model directory's kustomization configures its AnnotationsTransformer inline, as a YAML
    string (what kustomize reads): parsed into its documents, each annotation is a whole scalar
    again, and a string that broke out of its place would change their structure."""
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "Kustomization":
            document["transformers"] = [
                list(yaml.safe_load_all(t)) if isinstance(t, str) else t
                for t in document.get("transformers", ())
            ]
    return documents


def decode_packed(node: Any) -> Any:
    """A recording rule whose ``expr`` packs metadata (the routing series carries owner and route
    so): its expression as the PromQL around the terms and the series the terms record
    (tests/packed_series.py; tests/test_packed_metadata.py shows that Prometheus records those
    exactly), so that the spec's texts are whole values again, compared like any other."""
    if isinstance(node, dict) and "record" in node and PACKED in str(node.get("expr", "")):
        expr = str(node["expr"])
        terms = [{"value": value, "labels": labels} for value, labels in packed_series.series(expr)]
        return {**node, "expr": {"around": packed_series.outside(expr), "terms": terms}}
    if isinstance(node, dict):
        return {k: decode_packed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [decode_packed(v) for v in node]
    return node


def substitute(
    node: Any,
    replacements: dict[str, str],
    parent: str | None = None,
    key: str | None = None,
    raw: dict[str, str] | None = None,
) -> Any:
    if isinstance(node, dict) and "record" in node and raw is not None:
        # Prometheus copies a recording rule's labels as they are (it expands only an alert's
        # labels and annotations as templates): the spec's text, unescaped
        return {k: substitute(v, raw, key, k, raw) for k, v in node.items()}
    if isinstance(node, dict):
        out = {k: substitute(v, replacements, key, k, raw) for k, v in node.items()}
        if key == "metadata":
            _owner_annotation(node, out, replacements, raw or replacements)
        if node.get("kind") == "Kustomization":
            _kustomization_owner_annotation(node, out, replacements, raw or replacements)
        return out
    if isinstance(node, list):
        return [substitute(v, replacements, raw=raw) for v in node]
    if isinstance(node, str) and node in replacements:
        # a kustomization's label pairs are the labels of its objects' metadata
        if parent in ("labels", "pairs") and key == OWNER_LABEL:
            # a label carries a sanitized copy of the owner (of the spec's text, not an escaped one)
            return label_value((raw or replacements)[node])
        return replacements[node]
    if isinstance(node, str) and node.startswith(PARAM_FLAG) and node[len(PARAM_FLAG) :] in replacements:
        # Hyper-parameters reach training as one "--name=value" word (the documented contract).
        return PARAM_FLAG + replacements[node[len(PARAM_FLAG) :]]
    flag = drift_flag(node)
    if flag and node[len(flag) :] in replacements:
        # The drift check's settings are "--name=value" arguments, where the kubelet reads $$ as $.
        return flag + replacements[node[len(flag) :]].replace("$", "$$")
    return node


def _owner_annotation(
    metadata: dict[str, Any], out: dict[str, Any], replacements: dict[str, str], raw: dict[str, str]
) -> None:
    """The owner as written is annotated beside its label only when the label cannot hold it (the
    placeholder can): where the owner label is, the annotation appears for an owner that is no
    label value."""
    owner = (metadata.get("labels") or {}).get(OWNER_LABEL)
    if owner in raw and label_value(raw[owner]) != raw[owner] and "annotations" in out:
        out["annotations"] = {**out["annotations"], OWNER_LABEL: replacements[owner]}


def _kustomization_owner_annotation(
    kustomization: dict[str, Any], out: dict[str, Any], replacements: dict[str, str], raw: dict[str, str]
) -> None:
    """In a model directory's kustomization, as on its objects' metadata: the owner as written is
    among the annotations it sets (its AnnotationsTransformer's) when its owner label cannot hold it."""
    labels = [entry.get("pairs") or {} for entry in kustomization.get("labels", ())]
    owners = [pairs[OWNER_LABEL] for pairs in labels if OWNER_LABEL in pairs]
    for owner in owners:
        if owner in raw and label_value(raw[owner]) != raw[owner]:
            for transformer in out.get("transformers", ()):
                for document in transformer:
                    if document.get("kind") == "AnnotationsTransformer":
                        document["annotations"] = {
                            **document["annotations"],
                            OWNER_LABEL: replacements[owner],
                        }


def ci_escape(path: str, value: str) -> str:
    """CI files keep a spec value literal in their own syntax: GitHub prints ``${{ '${{' }}`` as
    ``${{``, GitLab reads ``$$`` as ``$``; Prometheus prints ``{{ "{{" }}`` as ``{{`` in alert labels
    and annotations. Elsewhere the value appears as is."""
    if path.startswith(".github/workflows/"):
        return github_escape(value)
    if path == ".gitlab-ci.yml" or path.endswith("/gitlab-ci.yml") or "/ci/gitlab-" in path:
        return gitlab_escape(value)  # the root file, the included ones and the child pipelines
    if path.endswith(("/prometheusrule.yaml", ".rules.yml")):
        return prometheus_escape(value)  # alert labels and annotations are Go templates
    return value


PARAM_FLAG = "--note="  # the training parameter "note" becomes the argument --note=<value>
# the drift check's arguments: --features=<drift feature>, --reference-version=<data version>, ...
DRIFT_FLAGS = tuple(f"--{name}=" for name in drift_settings.ARGUMENTS)


def drift_flag(node: Any) -> str:
    """The drift check's ``--name=`` that ``node`` starts with, else ``""``."""
    return next((f for f in DRIFT_FLAGS if node.startswith(f)), "") if isinstance(node, str) else ""


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (k, *strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def baseline(serving: str) -> CompileResult:
    result = compile_in_memory({f: placeholder(f) for f in FIELDS}, serving)
    assert result.ok and result.files, [f"{d.code} {d.message}" for d in result.diagnostics]
    return result


BASELINE_RESULTS = {serving: baseline(serving) for serving in ("kserve", "kubernetes")}
BASELINES = {serving: parsed(result) for serving, result in BASELINE_RESULTS.items()}


@pytest.fixture(scope="module")
def applied_baselines() -> dict[str, Parsed]:
    kubectl = require_tool("kubectl")
    return {serving: applied(result, kubectl) for serving, result in BASELINE_RESULTS.items()}


def _placeholders_found(documents: Parsed) -> set[str]:
    found = {s for docs in documents.values() for s in strings(docs)}
    return found | {s[len(drift_flag(s)) :] for s in found if drift_flag(s)}


def test_the_placeholders_reach_the_output_as_whole_scalars(applied_baselines: dict[str, Parsed]) -> None:
    for serving, documents in BASELINES.items():
        found = _placeholders_found(documents)
        missing = {f for f in RENDERED[serving] if placeholder(f) not in found}
        assert not missing, f"{serving}: these fields no longer reach the output: {sorted(missing)}"
        whole = {placeholder(f) for f in FIELDS}
        # the objects as applied carry every placeholder their environments' files hold
        in_environments = {
            path: docs for path, docs in documents.items() if re.match(r"deploy/(dev|prod)/", path)
        }
        expected = {s for s in _placeholders_found(in_environments) if s in whole}
        reached = _placeholders_found(applied_baselines[serving])
        assert {placeholder("description"), placeholder("owner")} <= expected
        assert expected == {s for s in reached if s in whole}, f"{serving}: lost or added by kustomize"
        embedded = sorted(
            s
            for s in found | reached
            if "zzplaceholder-" in s
            and s not in whole
            and s.removeprefix(PARAM_FLAG) not in whole
            and s[len(drift_flag(s)) :] not in whole
        )
        assert not embedded, f"{serving}: spec text embedded inside a larger value: {embedded}"


NASTY = [
    "\n",
    "a\nb",
    "---",
    "a\n---\nkind: Secret",
    "...",
    "key: value",
    "x: y\nz: w",
    "# comment",
    "a #b",
    "{{ secrets.TOKEN }}",
    "${{ github.event.issue.title }}",
    "{= project.name =}",
    "{% for x in y %}{% endfor %}",
    "{# c #}",
    "$(curl evil)",
    "`id`",
    "'single'",
    '"double"',
    "\\",
    "\\n",
    "back\\slash\\",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "1.10",
    "0777",
    "2026-01-01",
    "- item",
    "[a, b]",
    "{a: 1}",
    "&anchor",
    "*alias",
    "!!python/object:os.system",
    "!tag",
    "@at",
    "%TAG",
    "|",
    ">",
    "? q",
    " leading",
    "trailing ",
    "\ttab",
    "a\tb",
    "crlf\r\nline",
    "😀🚀",
    "עברית ומילים",
    "مرحبا",
    "\u202eevil\u202c",
    "\u200bzero\u200bwidth",
    "nbsp\u00a0here",
    "\u2003em\u3000ideographic",
    "line\u2028sep\u2029para",
    "nel\x85next",
    "\ufeffbom",
    "é" * 3,
]
PIECES = st.sampled_from(NASTY) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t"), max_size=40
)
HOSTILE = st.one_of(
    st.sampled_from(NASTY),
    st.lists(PIECES, min_size=1, max_size=8).map("".join),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=6).map(
        lambda parts: ("".join(parts) * 400)[:10240]
    ),
).filter(lambda s: len(s) >= 1)
VALUES = st.fixed_dictionaries(dict.fromkeys(FIELDS, HOSTILE)).filter(
    # a cluster that is a URL becomes a destination server instead of a name: a different structure
    lambda v: not v["cluster"].startswith(("http://", "https://"))
)


@settings(max_examples=60, deadline=None)
@given(values=VALUES, serving=st.sampled_from(["kserve", "kubernetes"]))
def test_hostile_strings_come_out_exactly_and_change_no_structure(
    applied_baselines: dict[str, Parsed], values: dict[str, str], serving: str
) -> None:
    result = compile_in_memory(values, serving)
    if not result.ok:
        codes = {d.code for d in result.diagnostics if d.severity.value == "error"}
        # kustomize turns NEL into a space, and cannot read back a text it writes for one that
        # begins with a tab and spans lines (src/mlgitops/validate/characters.py)
        unfaithful = any("\x85" in v or (v.startswith("\t") and "\n" in v) for v in values.values())
        # looks like a secret, or kustomize would change or refuse it: rightly refused
        assert codes <= {"MLG310", "MLG210"} and ("MLG210" in codes) == unfaithful, [
            f"{d.location}: {d.code} {d.message}" for d in result.diagnostics
        ]
        event(f"refused ({', '.join(sorted(codes))})")
        return
    actual = parsed(result)
    raw = {placeholder(f): values[f] for f in FIELDS}
    expected = {
        path: substitute(docs, {placeholder(f): ci_escape(path, values[f]) for f in FIELDS}, raw=raw)
        for path, docs in BASELINES[serving].items()
    }
    assert sorted(actual) == sorted(expected)
    for path, documents in expected.items():
        if path.endswith("/training-inputs.yaml"):
            # the fingerprint's digest is of the hostile values, not of the placeholders
            (fingerprint,) = actual[path]
            assert re.fullmatch(r"[0-9a-f]{64}", fingerprint.pop("sha256"))
            expected[path] = [{k: v for k, v in d.items() if k != "sha256"} for d in documents]
        assert actual[path] == expected[path], f"{path} differs from the placeholder output"
    # the objects as applied: each its file's placeholder objects, with the hostile strings
    built = applied(result, require_tool("kubectl"))
    expected_built = {
        path: substitute(docs, {placeholder(f): ci_escape(path, values[f]) for f in FIELDS}, raw=raw)
        for path, docs in applied_baselines[serving].items()
    }
    assert sorted(built) == sorted(expected_built)
    for path, documents in expected_built.items():
        assert built[path] == documents, f"{path} differs, as applied, from the placeholder objects"
