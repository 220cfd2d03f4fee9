"""`promote` (issue 6): a comment-preserving edit of one model's spec.

Each scenario edits a richly written spec (comments above, inside and after keys,
blank lines, block and flow styles, single and double quotes, anchors and aliases
elsewhere in the file, four-space indentation, sequences indented or not) and
asserts that the new text differs from the old one *only* in the intended lines:
``difflib`` over the lines gives the set of changed line numbers, which must be
exactly the expected set, and the whole text must equal the original with just
those lines edited (so everything else is byte-identical).

CRLF files are kept CRLF: changed lines keep their line break, and inserted lines
use the file's own.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import CliRunner

PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata: {name: promote-tests}
spec:
  repository: https://github.com/acme/ml.git
  ci: github
  gitops: argocd
  serving: kserve
  registry: {kind: mlflow, trackingUri: https://mlflow.example.com}
  environments:
    - {name: dev, namespace: ml-dev}
    - {name: staging, namespace: ml-staging}
    - {name: prod, namespace: ml-prod}
"""

# Block style, four-space indentation, comments everywhere, both quote styles, anchors.
BLOCK = """\
# Fraud model: the spec promote edits.  Everything here must survive byte for byte.
---
apiVersion: mlgitops/v1
kind: Model
metadata:
    name: fraud
    owner: risk-team      # who gets paged
    labels: &labels
        domain: payments


spec:
    data:
        -   name: transactions
            uri: 's3://acme/tx/'
            version: "2026-11-01"
    training:
        image: ghcr.io/acme/fraud-train:1.8.0
        command:
          - python
          - -m
          - fraud.train
        resources: &res {cpu: "1", memory: 2Gi}
    evaluation:
        gates:
        -   {metric: auc, min: 0.92}    # not indented under gates
        -   metric: latency_p95_ms
            max: 50
    serving:
        runtime: sklearn
        artifact: "s3://acme/fraud/{version}/"
        resources: *res
        annotations:   {team: "risk" ,  tier: 'critical'}
    deployments:
        # dev gets every new build
        dev:
            version: "1.5.0"      # double-quoted

        staging:
            # a comment inside staging
            version: '1.4.0'      # single-quoted
        prod:
            version: 1.3.0
            # prod runs more replicas
            autoscaling:
                minReplicas: 2
                maxReplicas: 4
        # after the last environment
    monitoring:
        slos:
            availability: {objective: 99.9, window: 30d}   # the SLO
    # end of spec
"""

# Flow style: the deployments on two lines, a canary in prod.
FLOW = """\
apiVersion: mlgitops/v1
kind: Model
metadata: {name: fraud, owner: risk-team}
spec:
  training: {image: "ghcr.io/acme/fraud-train:1.8.0", command: [python, -m, fraud.train]}
  evaluation: {gates: [{metric: auc, min: 0.92}]}
  serving: {runtime: sklearn, artifact: "s3://acme/fraud/{version}/"}
  # flow style, over two lines
  deployments: {dev: {version: 2.0.0}, staging: {version: "1.9.0"},
                prod: {version: 1.8.0, canary: {version: 1.9.0, traffic: 10}}}  # after
  monitoring: {slos: {availability: {objective: 99.9, window: 30d}}}
"""

# Flow style without staging: promote adds it to the flow mapping.
FLOW_GAP = FLOW.replace(
    """  deployments: {dev: {version: 2.0.0}, staging: {version: "1.9.0"},
                prod: {version: 1.8.0, canary: {version: 1.9.0, traffic: 10}}}  # after
""",
    """  deployments: {dev: {version: 2.0.0},
                prod: {version: 1.8.0}}  # after
""",
)

# Block deployments with a block canary, a gap in the environments, no final newline.
CANARY = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: fraud
  owner: risk-team
spec:
  training:
    image: ghcr.io/acme/fraud-train:1.8.0
    command: [python, -m, fraud.train]
  evaluation:
    gates: [{metric: auc, min: 0.92}]
  serving:
    runtime: sklearn
    artifact: "s3://acme/fraud/{version}/"
  deployments:
    dev:
      version: 2.1.0
    prod:
      version: 2.0.0  # stable
      # 2.1.0 on a few requests first
      canary:         # the canary
        version: 2.1.0
        traffic: 5    # percent
      # replicas
      autoscaling: {minReplicas: 2}
  monitoring:
    slos:
      availability: {objective: 99.9, window: 30d}"""


@dataclass(frozen=True)
class Edit:
    """The expected edit, by 1-based line number of the original text."""

    replace: dict[int, str] = field(default_factory=dict)  # line → new content (without line break)
    insert_after: dict[int, list[str]] = field(default_factory=dict)
    delete: frozenset[int] = frozenset()

    def apply(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        eol = "\r\n" if lines[0].endswith("\r\n") else "\n"
        out: list[str] = []
        for number, line in enumerate(lines, start=1):
            ending = line[len(line.rstrip("\r\n")) :]
            if number not in self.delete:
                out.append(self.replace[number] + ending if number in self.replace else line)
            out += [new + eol for new in self.insert_after.get(number, [])]
        return "".join(out)

    @property
    def changed(self) -> set[int]:
        return set(self.replace) | set(self.delete)

    @property
    def added(self) -> list[str]:
        """The new lines, in the order they appear in the edited text."""
        out: list[str] = []
        for number in sorted(set(self.replace) | set(self.insert_after)):
            if number in self.replace:
                out.append(self.replace[number])
            out += self.insert_after.get(number, [])
        return out


def line_changes(before: str, after: str) -> tuple[set[int], list[str]]:
    """(numbers of the original lines that were replaced or deleted, lines that are new), by difflib."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changed: set[int] = set()
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(range(i1 + 1, i2 + 1))
            added += b[j1:j2]
    return changed, added


@dataclass(frozen=True)
class Scenario:
    id: str
    spec: str
    args: tuple[str, ...]
    edit: Edit


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line containing ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


def _scenarios() -> list[Scenario]:
    b, f, g, c = BLOCK, FLOW, FLOW_GAP, CANARY
    flow_prod = line_of(f, "prod: {version: 1.8.0")
    return [
        Scenario(
            "block-promote-staging-default-version",
            b,
            ("--to", "staging"),
            Edit(
                replace={line_of(b, "version: '1.4.0'"): "            version: '1.5.0'      # single-quoted"}
            ),
        ),
        Scenario(
            "block-promote-prod",
            b,
            ("--to", "prod"),
            Edit(replace={line_of(b, "version: 1.3.0"): "            version: 1.4.0"}),
        ),
        Scenario(
            "block-promote-dev-explicit-version-keeps-double-quotes",
            b,
            ("--to", "dev", "--version", "1.6.0-rc.1"),
            Edit(
                replace={
                    line_of(b, 'version: "1.5.0"'): '            version: "1.6.0-rc.1"      # double-quoted'
                }
            ),
        ),
        Scenario(
            "block-canary",
            b,
            ("--to", "prod", "--canary", "20"),
            Edit(
                insert_after={
                    line_of(b, "maxReplicas: 4"): ["            canary: {version: 1.4.0, traffic: 20}"]
                }
            ),
        ),
        Scenario(
            "block-force",
            b,
            ("--to", "prod", "--version", "1.5.0", "--force"),
            Edit(
                replace={line_of(b, "version: 1.3.0"): "            version: 1.5.0"},
                insert_after={line_of(b, "maxReplicas: 4"): ["            waivePromotionOrder: true"]},
            ),
        ),
        Scenario(
            "flow-promote-finishes-a-canary-of-the-same-version",
            f,
            ("--to", "prod"),
            Edit(replace={flow_prod: "                prod: {version: 1.9.0}}  # after"}),
        ),
        Scenario(
            "flow-canary-traffic",
            f,
            ("--to", "prod", "--canary", "30"),
            Edit(
                replace={
                    flow_prod: "                prod: {version: 1.8.0, "
                    "canary: {version: 1.9.0, traffic: 30}}}  # after"
                }
            ),
        ),
        Scenario(
            "flow-finish-canary",
            f,
            ("--to", "prod", "--finish-canary"),
            Edit(replace={flow_prod: "                prod: {version: 1.9.0}}  # after"}),
        ),
        Scenario(
            "flow-force",
            f,
            ("--to", "prod", "--version", "2.0.0", "--force"),
            Edit(
                replace={
                    flow_prod: "                prod: {version: 2.0.0, "
                    "canary: {version: 1.9.0, traffic: 10}, waivePromotionOrder: true}}  # after"
                }
            ),
        ),
        Scenario(
            "flow-promote-staging-keeps-double-quotes",
            f,
            ("--to", "staging"),
            Edit(
                replace={
                    line_of(
                        f, "staging:"
                    ): '  deployments: {dev: {version: 2.0.0}, staging: {version: "2.0.0"},'
                }
            ),
        ),
        Scenario(
            "flow-add-an-environment-to-a-flow-mapping",
            g,
            ("--to", "staging"),
            Edit(
                replace={
                    line_of(g, "prod: {version: 1.8.0"): "                prod: {version: 1.8.0}, "
                    "staging: {version: 2.0.0}}  # after"
                }
            ),
        ),
        Scenario(
            "block-canary-finish-removes-the-block-canary",
            c,
            ("--to", "prod", "--finish-canary"),
            Edit(
                replace={line_of(c, "version: 2.0.0"): "      version: 2.1.0  # stable"},
                # the comment right above the canary goes with it
                delete=frozenset(range(line_of(c, "on a few requests"), line_of(c, "traffic: 5") + 1)),
            ),
        ),
        Scenario(
            "block-canary-more-traffic",
            c,
            ("--to", "prod", "--canary", "50"),
            Edit(replace={line_of(c, "traffic: 5"): "        traffic: 50    # percent"}),
        ),
        Scenario(
            "block-promote-to-a-missing-environment-uses-the-nearest-previous-one",
            c,
            ("--to", "staging"),
            Edit(insert_after={line_of(c, "autoscaling:"): ["    staging: {version: 2.1.0}"]}),
        ),
    ]


SCENARIOS = _scenarios()


def write_project(root: Path, spec: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlgitops.yaml").write_text(PROJECT, encoding="utf-8")
    (root / "models").mkdir(exist_ok=True)
    path = root / "models" / "fraud.yaml"
    path.write_bytes(spec.encode("utf-8"))
    return path


def promote(cli: CliRunner, root: Path, *args: str) -> tuple[int, str, str]:
    result = cli("promote", "fraud", *args, "--project", root)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
@pytest.mark.parametrize("newline", ["lf", "crlf"])
def test_only_the_intended_lines_change(
    cli: CliRunner, tmp_path: Path, scenario: Scenario, newline: str
) -> None:
    original = scenario.spec if newline == "lf" else scenario.spec.replace("\n", "\r\n")
    path = write_project(tmp_path, original)
    code, out, err = promote(cli, tmp_path, *scenario.args)
    assert code == 0, out + err
    edited = path.read_bytes().decode("utf-8")

    changed, added = line_changes(original, edited)
    assert changed == scenario.edit.changed
    eol = "\n" if newline == "lf" else "\r\n"
    assert [line.removesuffix(eol) for line in added] == scenario.edit.added
    # everything else is byte-identical
    assert edited == scenario.edit.apply(original)
    if newline == "crlf":
        assert edited.count("\n") == edited.count("\r\n"), "a line break that is not CRLF was written"
    else:
        assert "\r" not in edited
    # and the result is a valid project
    assert cli("validate", tmp_path).exit_code == 0


def test_a_canary_then_finishing_it_is_a_plain_promotion(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    assert promote(cli, tmp_path, "--to", "prod", "--canary", "20")[0] == 0
    assert promote(cli, tmp_path, "--to", "prod", "--canary", "60")[0] == 0
    with_canary = path.read_text(encoding="utf-8")
    assert "            canary: {version: 1.4.0, traffic: 60}\n" in with_canary
    assert promote(cli, tmp_path, "--to", "prod", "--finish-canary")[0] == 0
    expected = Edit(replace={line_of(BLOCK, "version: 1.3.0"): "            version: 1.4.0"}).apply(BLOCK)
    assert path.read_text(encoding="utf-8") == expected


# --- promotion order, --force, defaults --------------------------------------------------------


def test_promotion_order_is_enforced(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    before = path.stat()
    code, out, err = promote(cli, tmp_path, "--to", "prod", "--version", "1.5.0")
    assert code == 1
    assert out == ""
    assert err == (
        "error: fraud 1.5.0 has not been deployed to 'staging', which comes before 'prod' "
        "(it serves 1.4.0); promote it there first, or pass --force "
        "(which also marks the deployment waivePromotionOrder: true)\n"
    )
    assert path.read_text(encoding="utf-8") == BLOCK
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_force_marks_the_deployment(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    code, out, _ = promote(cli, tmp_path, "--to", "prod", "--version", "1.5.0", "--force")
    assert code == 0
    assert "+            waivePromotionOrder: true\n" in out
    from mlgitops.pipeline import validate_project

    result = validate_project(tmp_path)
    assert result.resolved is not None
    model = result.resolved.validated.models[0]
    prod = model.spec.spec.deployments["prod"]
    assert (prod.version, prod.waive_promotion_order) == ("1.5.0", True)
    # forcing again does not add the key twice
    assert promote(cli, tmp_path, "--to", "prod", "--version", "1.5.0", "--force")[0] == 0
    assert path.read_text(encoding="utf-8").count("waivePromotionOrder") == 1


def test_an_older_version_is_a_rollback_not_an_order_break(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    code, _, err = promote(cli, tmp_path, "--to", "prod", "--version", "1.2.0")
    assert code == 0, err
    assert "            version: 1.2.0\n" in path.read_text(encoding="utf-8")
    assert "waivePromotionOrder" not in path.read_text(encoding="utf-8")


def test_the_default_version_is_the_previous_environments(cli: CliRunner, tmp_path: Path) -> None:
    write_project(tmp_path, BLOCK)
    for env, version in (("staging", "1.5.0"), ("prod", "1.4.0")):
        result = cli("promote", "fraud", "--to", env, "--dry-run", "--format", "json", "--project", tmp_path)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["version"] == version


def test_the_first_environment_needs_a_version(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    code, out, err = promote(cli, tmp_path, "--to", "dev")
    assert (code, out) == (1, "")
    assert err == "error: dev is the first environment of fraud: pass --version\n"
    assert path.read_text(encoding="utf-8") == BLOCK


def test_an_edit_that_would_not_validate_is_not_written(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, CANARY)
    before = path.stat().st_mtime_ns
    # a canary of the version that is already stable
    code, out, err = promote(cli, tmp_path, "--to", "prod", "--canary", "20", "--version", "2.0.0")
    assert (code, out) == (1, "")
    assert err.startswith("error: the edited spec would not validate; nothing was written\n")
    assert "MLG305" in err
    assert "models/fraud.yaml:" in err
    assert path.read_text(encoding="utf-8") == CANARY
    assert path.stat().st_mtime_ns == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["fraud.yaml"]  # no temporary file left


def test_dry_run_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    before = path.stat().st_mtime_ns
    code, out, _ = promote(cli, tmp_path, "--to", "staging", "--dry-run")
    assert code == 0
    assert out.startswith(
        "would edit (dry run) models/fraud.yaml:\n--- a/models/fraud.yaml\n+++ b/models/fraud.yaml\n"
    )
    assert "-            version: '1.4.0'      # single-quoted\n" in out
    assert "+            version: '1.5.0'      # single-quoted\n" in out
    assert out.endswith(
        "suggested commit message:\n  Promote fraud 1.5.0 to staging\n"
        "suggested pull-request title:\n  Promote fraud 1.5.0 to staging\n"
        "next: run 'mlgitops compile' and commit both the spec and the generated files\n"
    )
    assert path.read_text(encoding="utf-8") == BLOCK
    assert path.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlgitops.yaml", "models"]


def test_json_output(cli: CliRunner, tmp_path: Path) -> None:
    write_project(tmp_path, CANARY)
    result = cli(
        "promote", "fraud", "--to", "prod", "--canary", "25", "--format", "json", "--project", tmp_path
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "ok": True,
        "model": "fraud",
        "environment": "prod",
        "version": "2.1.0",
        "kind": "canary",
        "canary": 25,
        "trafficBefore": None,
        "file": "models/fraud.yaml",
        "written": True,
        "branch": "mlgitops/canary-fraud-prod-2.1.0",
        "title": "Canary fraud 2.1.0 at 25% in prod",
        "commitMessage": (
            "Canary fraud 2.1.0 at 25% in prod\n\nEdited models/fraud.yaml with mlgitops promote."
        ),
        "body": "Canary fraud 2.1.0 at 25% in prod.\n\nThis pull request was opened by `mlgitops promote`; "
        "merging it lets the GitOps controller roll the change out.",
        "diff": "--- a/models/fraud.yaml\n+++ b/models/fraud.yaml\n@@ -20,7 +20,7 @@\n"
        "       # 2.1.0 on a few requests first\n"
        "       canary:         # the canary\n"
        "         version: 2.1.0\n"
        "-        traffic: 5    # percent\n"
        "+        traffic: 25    # percent\n"
        "       # replicas\n"
        "       autoscaling: {minReplicas: 2}\n"
        "   monitoring:\n",
    }
    finish = cli(
        "promote", "fraud", "--to", "prod", "--finish-canary", "--format", "json", "--project", tmp_path
    )
    document = json.loads(finish.stdout)
    assert (document["kind"], document["canary"], document["branch"], document["title"]) == (
        "finish-canary",
        None,
        "mlgitops/finish-canary-fraud-prod-2.1.0",
        "Finish the canary of fraud 2.1.0 in prod",
    )
    dry = cli("promote", "fraud", "--to", "staging", "--dry-run", "--format", "json", "--project", tmp_path)
    document = json.loads(dry.stdout)
    assert (document["written"], document["branch"], document["title"]) == (
        False,
        "mlgitops/promote-fraud-staging-2.1.0",
        "Promote fraud 2.1.0 to staging",
    )


# --- refusals ----------------------------------------------------------------------------------


def test_an_aliased_deployment_is_not_edited_through_its_anchor(cli: CliRunner, tmp_path: Path) -> None:
    """``staging: *dev`` shares dev's node: editing it would silently change dev too."""
    spec = CANARY.replace(
        "    dev:\n      version: 2.1.0\n", "    dev: &dev\n      version: 2.1.0\n    staging: *dev\n"
    )
    path = write_project(tmp_path, spec)
    assert cli("validate", tmp_path).exit_code == 0
    for env in ("staging", "dev"):
        code, out, err = promote(cli, tmp_path, "--to", env, "--version", "2.2.0", "--force")
        assert (code, out) == (1, "")
        assert err == (
            f"error: cannot edit models/fraud.yaml: deployments.{env} is shared through a YAML anchor "
            "and alias (&name / *name); editing it would also change the other places that use it; "
            "make this change by hand\n"
        )
        assert path.read_text(encoding="utf-8") == spec
    # prod is its own node: promoting it is fine
    code, _, err = promote(cli, tmp_path, "--to", "prod", "--finish-canary")
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--to", "prod", "--finish-canary", "--version", "1.0.0"),
            "--finish-canary: pass one of --weight, --finish-canary, --abort-canary, and neither",
        ),
        (("--to", "prod", "--weight", "30", "--abort-canary"), "--weight and --abort-canary: pass one"),
        (("--to", "staging", "--weight", "30"), "fraud has no canary in staging to move"),
        (("--to", "staging", "--abort-canary"), "fraud has no canary in staging to abort"),
        (("--to", "staging", "--finish-canary"), "fraud has no canary in staging to finish"),
        (
            ("--to", "staging", "--canary", "10"),
            "a canary needs a stable version: fraud is not in staging yet",
        ),
        (("--to", "prd"), "no environment named 'prd'"),
        (("--to", "prod", "--canary", "100"), "100 is not in the range"),
    ],
)
def test_refusals(cli: CliRunner, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = write_project(tmp_path, CANARY)
    code, out, err = promote(cli, tmp_path, *args)
    assert code in (1, 2)
    assert out == ""
    assert message in err
    assert path.read_text(encoding="utf-8") == CANARY


def test_unknown_model(cli: CliRunner, tmp_path: Path) -> None:
    write_project(tmp_path, CANARY)
    result = cli("promote", "frod", "--to", "prod", "--project", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no model named 'frod'")
    assert "fraud" in result.stderr


def test_permissions_are_kept(cli: CliRunner, tmp_path: Path) -> None:
    path = write_project(tmp_path, BLOCK)
    path.chmod(0o640)
    assert promote(cli, tmp_path, "--to", "staging")[0] == 0
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["fraud.yaml"]


def _without(text: str, key: str) -> str:
    from yaml.nodes import MappingNode

    from mlgitops import textedit

    prod = textedit.child(textedit.parse(text), "prod")
    assert prod is not None and isinstance(prod[1], MappingNode)
    return textedit.apply(text, [textedit.remove_entry(text, prod[1], key)])


def test_removing_a_key_keeps_comments_that_head_the_mapping() -> None:
    text = "prod:\n  # prod pins\n  canary: {version: 1.3.0, traffic: 10}\n  version: 1.2.0\n"
    assert _without(text, "canary") == "prod:\n  # prod pins\n  version: 1.2.0\n"


def test_removing_a_key_never_cuts_into_the_previous_value() -> None:
    text = 'prod:\n  note: "first line\n  #second line"\n  # about the canary\n  canary: {version: 1.3.0}\n'
    assert _without(text, "canary") == 'prod:\n  note: "first line\n  #second line"\n'


def test_a_literal_artifact_does_not_follow_a_new_version(cli: CliRunner, tmp_path: Path) -> None:
    """The stable version's artifact written without {version} (an image by digest) would stay
    the old version's: promote refuses rather than serve it under the new version's name."""
    image = "oci://ghcr.io/acme/fraud@sha256:" + "a" * 64
    spec = CANARY.replace(
        "      version: 2.0.0  # stable\n", f'      version: 2.0.0  # stable\n      artifact: "{image}"\n'
    ).replace(
        "        version: 2.1.0\n", '        version: 2.1.0\n        artifact: "s3://acme/fraud/2.1.0/"\n'
    )
    path = write_project(tmp_path, spec)
    code, out, err = promote(cli, tmp_path, "--to", "prod", "--finish-canary")
    assert code == 1 and out == ""
    assert "would not follow version 2.1.0" in err
    assert path.read_text(encoding="utf-8") == spec
    # the canary's weight moves: the stable version stays, so does its artifact
    code, _, err = promote(cli, tmp_path, "--to", "prod", "--weight", "20")
    assert code == 0, err
