"""Runs the step scripts of compiled CI files under bash/sh, as the CI system would, with a stub
environment: fake cloud CLIs, ``oras``, ``gh`` and a ``git`` whose ``push`` goes nowhere, each
recording its arguments; a fake ``huggingface_hub`` module recording its calls.

The scripts are taken from the compiled output (``run:`` blocks, GitLab ``script:`` lines),
never re-typed here. What the CI system itself does between scripts is simulated as little as
possible: GitHub expressions in ``env:`` are replaced by stub values, ``uses:`` steps are
recorded (checkout, set-up and logins) or copy files (upload/download-artifact); GitLab
variables are expanded, dotenv reports passed on. The install step of mlgitops is the one
step not run: the stub ``mlgitops`` on PATH is this checkout's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from github_expressions import as_text, condition, evaluate
from mlgitops.targets.ci.contract import UNPINNED_INSTALL

SRC = Path(__file__).resolve().parent.parent / "src"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_FROM_JSON = re.compile(r"\$\{\{\s*fromJSON\(([\w.-]+)\)\s*\}\}")
_GITLAB_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")

# Each fake CLI appends one JSON line {tool, args, cwd, env} to $STUB_CALLS.
_FAKE = """\
#!/bin/sh
python3 - "$(basename "$0")" "$@" <<'PY'
import json, os, sys
keep = ("AWS_", "GOOGLE_", "CLOUDSDK_", "AZURE_", "REGISTRY_", "GH_TOKEN")
env = {k: v for k, v in os.environ.items() if k.startswith(keep)}
with open(os.environ["STUB_CALLS"], "a") as out:
    out.write(json.dumps({"tool": sys.argv[1], "args": sys.argv[2:], "cwd": os.getcwd(), "env": env}) + "\\n")
PY
# What the fake prints (STUB_STDOUT, e.g. an id that gh api finds).
if [ -n "${STUB_STDOUT:-}" ]; then printf '%s\\n' "$STUB_STDOUT"; fi
"""
_FAKE_GIT = _FAKE.replace("PY\n", 'PY\nif [ "$1" != push ]; then exec "$REAL_GIT" "$@"; fi\n', 1)
_FAKE_MLGITOPS = '#!/bin/sh\nexec "$STUB_PYTHON" -m mlgitops "$@"\n'
_FAKE_HF = """\
import json, os


class HfApi:
    def __init__(self, token=None):
        self.token = token

    def _record(self, method, **kwargs):
        entry = {"tool": "huggingface_hub", "method": method, "token": self.token, **kwargs}
        with open(os.environ["STUB_CALLS"], "a") as out:
            out.write(json.dumps(entry) + "\\n")

    def create_branch(self, repo, branch, exist_ok=False):
        self._record("create_branch", repo=repo, branch=branch)

    def upload_folder(self, **kwargs):
        kwargs["files"] = sorted(os.listdir(kwargs["folder_path"]))
        self._record("upload_folder", **kwargs)
"""
FAKE_TOOLS = ("aws", "gcloud", "az", "oras", "gh", "kubectl")


@dataclass
class Stub:
    """A workspace (the checked-out repository), a bin directory of fakes, and the calls made."""

    workspace: Path
    scratch: Path
    env: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)  # "job/step" of every script run

    @classmethod
    def create(cls, workspace: Path, scratch: Path) -> Stub:
        bin_dir = scratch / "bin"
        (scratch / "py" / "huggingface_hub").mkdir(parents=True)
        (scratch / "py" / "huggingface_hub" / "__init__.py").write_text(_FAKE_HF)
        bin_dir.mkdir()
        for tool, text in [
            *((t, _FAKE) for t in FAKE_TOOLS),
            ("git", _FAKE_GIT),
            ("mlgitops", _FAKE_MLGITOPS),
        ]:
            (bin_dir / tool).write_text(text)
            (bin_dir / tool).chmod(0o755)
        python_bin = Path(sys.executable).parent
        env = {
            "PATH": os.pathsep.join([str(bin_dir), str(python_bin), "/usr/bin", "/bin"]),
            "HOME": str(scratch),
            "PYTHONPATH": os.pathsep.join([str(scratch / "py"), str(SRC)]),
            "STUB_CALLS": str(scratch / "calls.jsonl"),
            "STUB_PYTHON": sys.executable,
            "REAL_GIT": shutil.which("git") or "git",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "TMPDIR": str(scratch),
        }
        return cls(workspace, scratch, env)

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        path = Path(self.env["STUB_CALLS"])
        entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [e for e in entries if tool is None or e["tool"] == tool]

    def run(self, shell: str, script: str, env: dict[str, str], what: str) -> None:
        self.ran.append(what)
        command = (
            ["sh", "-e", "-c", script] if shell == "sh" else ["bash", "-e", "-o", "pipefail", "-c", script]
        )
        result = subprocess.run(
            command, cwd=self.workspace, env={**env, **self.env}, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (
            f"{what} failed ({result.returncode}):\n{result.stderr}\n{result.stdout}"
        )


class GitHubRun:
    """One run of a workflow's jobs, in ``needs`` order, in one workspace; a job that calls a local
    reusable workflow (``uses: ./.github/workflows/x.yml``) runs that workflow's jobs with its
    ``with:`` values as ``inputs`` and its ``secrets:`` as the only secrets, as on GitHub. ``if:``
    conditions of jobs and steps are evaluated (tests/github_expressions.py)."""

    def __init__(self, stub: Stub, expressions: dict[str, str]) -> None:
        self.stub = stub
        self.expressions = expressions  # expression text → value; secrets.*/vars.* default to stubs
        self.artifacts = stub.scratch / "artifacts"
        self.logins: list[dict[str, Any]] = []
        self.runner_temp = stub.scratch / "runner-temp"
        self.runner_temp.mkdir(exist_ok=True)
        self.expressions.setdefault("runner.temp", str(self.runner_temp))
        # The called workflow's secrets (None: the repository's, stubbed as "secrets-NAME").
        self.secrets: dict[str, str] | None = None

    def value(self, expression: str) -> str:
        if expression in self.expressions:
            return self.expressions[expression]
        kind, _, name = expression.partition(".")
        if kind == "secrets" and self.secrets is not None:
            return self.secrets.get(name, "")  # a secret the caller does not pass is empty
        if kind in ("secrets", "vars"):
            return f"{kind}-{name}"
        raise AssertionError(f"no stub value for the expression {expression!r}")

    def evaluate(self, expression: str) -> str:
        return as_text(evaluate(expression, self.value))

    def substitute(self, written: str) -> str:
        return _EXPRESSION.sub(lambda m: self.evaluate(m.group(1)), written)

    def workflow(self, workflow: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Run every job whose ``if:`` holds; returns each job's outputs."""
        outputs: dict[str, dict[str, str]] = {}
        for job_id in _needs_order(workflow["jobs"]):
            job = workflow["jobs"][job_id]
            if not condition(job.get("if"), self.value):
                outputs[job_id] = {}
                continue
            outputs[job_id] = self.job(workflow, job_id)
            for key, value in outputs[job_id].items():
                self.expressions[f"needs.{job_id}.outputs.{key}"] = value
        return outputs

    def job(self, workflow: dict[str, Any], job_id: str) -> dict[str, str]:
        """Run one job (its ``if:`` is the caller's business); returns its outputs."""
        job = workflow["jobs"][job_id]
        if isinstance(job.get("uses"), str):
            return self._call(job)
        workdir = job.get("defaults", {}).get("run", {}).get("working-directory", ".")
        job_env = self._env(job.get("env"))
        for step in job["steps"]:
            if not condition(step.get("if"), self.value):
                continue
            env = {**job_env, **self._env(step.get("env"))}
            env["RUNNER_TEMP"] = str(self.runner_temp)
            if "uses" in step:
                self._uses(step)
                continue
            if step.get("name") == "Install mlgitops":
                continue
            assert "${{" not in step["run"], f"{job_id}: expression in run: {step['name']}"
            output = self.stub.scratch / "github-output"
            output.write_text("")
            env["GITHUB_OUTPUT"] = str(output)
            script = step["run"] if workdir == "." else f"cd {workdir}\n" + step["run"]
            self.stub.run(step.get("shell", "bash"), script, env, f"{job_id}/{step['name']}")
            if "id" in step:
                for line in output.read_text().splitlines():
                    key, _, value = line.partition("=")
                    self.expressions[f"steps.{step['id']}.outputs.{key}"] = value
        return {k: self.substitute(str(v)) for k, v in (job.get("outputs") or {}).items()}

    def _env(self, declared: Any) -> dict[str, str]:
        """A job's or step's ``env``: a mapping, or ``${{ fromJSON(inputs.X) }}``."""
        if declared is None:
            return {}
        if isinstance(declared, str):
            match = _FROM_JSON.fullmatch(declared.strip())
            assert match is not None, f"cannot read env {declared!r}"
            return {str(k): str(v) for k, v in json.loads(self.value(match.group(1)) or "{}").items()}
        return {k: self.substitute(str(v)) for k, v in declared.items()}

    def _call(self, job: dict[str, Any]) -> dict[str, str]:
        uses: str = job["uses"]
        assert uses.startswith("./"), f"a remote reusable workflow: {uses}"
        callee = load(self.stub.workspace / uses)
        declared = (callee.get("on") or callee.get(True) or {}).get("workflow_call") or {}
        inputs = {name: str(spec.get("default", "")) for name, spec in (declared.get("inputs") or {}).items()}
        inputs.update({k: self.substitute(str(v)) for k, v in (job.get("with") or {}).items()})
        secrets = {k: self.substitute(str(v)) for k, v in (job.get("secrets") or {}).items()}
        # The callee sees its own inputs, secrets, needs and steps, and the caller's again after.
        caller = (dict(self.expressions), self.secrets)
        scoped = ("inputs.", "needs.", "steps.", "jobs.")
        self.expressions = {k: v for k, v in self.expressions.items() if not k.startswith(scoped)}
        self.expressions.update({f"inputs.{k}": v for k, v in inputs.items()})
        self.secrets = secrets
        try:
            outputs = self.workflow(callee)
            for job_id, values in outputs.items():
                self.expressions.update({f"jobs.{job_id}.outputs.{k}": v for k, v in values.items()})
            return {
                name: self.substitute(str(spec["value"]))
                for name, spec in (declared.get("outputs") or {}).items()
            }
        finally:
            self.expressions, self.secrets = caller

    def _uses(self, step: dict[str, Any]) -> None:
        action = step["uses"].split("@")[0]
        inputs = {k: self.substitute(str(v)) for k, v in (step.get("with") or {}).items()}
        if action == "actions/upload-artifact":
            target = self.artifacts / inputs["name"]
            source = self.stub.workspace / inputs["path"]
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target / source.name)
        elif action == "actions/download-artifact":
            destination = Path(inputs["path"])
            destination = destination if destination.is_absolute() else self.stub.workspace / destination
            shutil.copytree(self.artifacts / inputs["name"], destination, dirs_exist_ok=True)
        elif action == "actions/create-github-app-token":
            self.expressions[f"steps.{step['id']}.outputs.token"] = "app-token-for-" + inputs["app-id"]
            self.logins.append({"action": action, **inputs})
        elif action not in ("actions/checkout", "actions/setup-python"):
            self.logins.append({"action": action, **inputs})


class GitLabRun:
    """One pipeline's jobs, in order, in one workspace (GitLab restores artifacts in place)."""

    def __init__(self, stub: Stub, config: dict[str, Any], predefined: dict[str, str]) -> None:
        self.stub = stub
        self.config = config
        self.predefined = {**predefined, "CI_PROJECT_DIR": str(stub.workspace)}
        self.dotenv: dict[str, str] = {}

    def expand(self, value: str, known: dict[str, str]) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1) or match.group(2)
            return known.get(name, "")

        return _GITLAB_VARIABLE.sub(one, value)

    def job(self, name: str, id_tokens: dict[str, str] | None = None) -> None:
        job = self.config[name]
        known = {**self.predefined, **self.dotenv}
        variables: dict[str, str] = {}
        for source in (self.config.get("variables", {}), job.get("variables", {})):
            for key, raw in source.items():
                value = raw["value"] if isinstance(raw, dict) else str(raw)
                variables[key] = self.expand(value, {**known, **variables})
        for token in job.get("id_tokens", {}):
            variables[token] = (id_tokens or {}).get(token, "id-token-" + token)
        env = {**variables, **known}  # pipeline, project and inherited (dotenv) variables win over YAML
        lines = [line for item in job["script"] for line in item.splitlines() if not _installs_mlgitops(line)]
        self.stub.run("bash", "\n".join(lines) + "\n", env, name)
        report = job.get("artifacts", {}).get("reports", {}).get("dotenv")
        if report:
            for line in (self.stub.workspace / report).read_text().splitlines():
                key, _, value = line.partition("=")
                self.dotenv[key] = value


def _installs_mlgitops(line: str) -> bool:
    """The install line of mlgitops (any form of spec.ci.mlgitops, or the one that stops without
    it): not run, the stub ``mlgitops`` on PATH is this checkout's."""
    return line == UNPINNED_INSTALL or ("pip install" in line and "mlgitops" in line)


def gitlab_config(workspace: Path, path: str) -> dict[str, Any]:
    """A GitLab configuration as GitLab reads it: its ``include: local`` files merged in (the
    including file wins) and every job's ``extends`` resolved (hashes merged deeply, anything
    else replaced by the extending job)."""
    config = _with_includes(workspace, path, ())
    return {
        name: _extended(config, name, ()) if isinstance(job, dict) else job for name, job in config.items()
    }


def gitlab_child(workspace: Path, config: dict[str, Any], trigger_job: str) -> dict[str, Any]:
    """The child pipeline a trigger job starts (``trigger: include: local``)."""
    (include,) = config[trigger_job]["trigger"]["include"]
    return gitlab_config(workspace, include["local"])


def _with_includes(workspace: Path, path: str, seen: tuple[str, ...]) -> dict[str, Any]:
    assert path not in seen, f"include cycle: {seen}"
    own = load(workspace / path)
    # GitLab refuses a file that holds no configuration (one of only comments is such a file).
    assert isinstance(own, dict) and own, f"{path} holds no configuration"
    includes = own.pop("include", [])
    merged: dict[str, Any] = {}
    for include in [includes] if isinstance(includes, str | dict) else includes:
        local = include if isinstance(include, str) else include["local"]
        merged = _deep_merge(merged, _with_includes(workspace, local.lstrip("/"), (*seen, path)))
    return _deep_merge(merged, own)


def _extended(config: dict[str, Any], name: str, seen: tuple[str, ...]) -> dict[str, Any]:
    assert name not in seen, f"extends cycle: {seen}"
    job: dict[str, Any] = config[name]
    parents = job.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = _deep_merge(merged, _extended(config, parent, (*seen, name)))
    return _deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _needs_order(jobs: dict[str, Any]) -> list[str]:
    """Job ids so that every job comes after the jobs it needs (file order otherwise)."""
    ordered: list[str] = []

    def visit(job_id: str) -> None:
        if job_id not in ordered:
            needs = jobs[job_id].get("needs") or []
            for needed in [needs] if isinstance(needs, str) else needs:
                visit(str(needed))
            ordered.append(job_id)

    for job_id in jobs:
        visit(job_id)
    return ordered
