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

SRC = Path(__file__).resolve().parent.parent / "src"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
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
    """One run of a workflow's jobs, in order, in one workspace."""

    def __init__(self, stub: Stub, expressions: dict[str, str]) -> None:
        self.stub = stub
        self.expressions = expressions  # expression text → value; secrets.*/vars.* default to stubs
        self.artifacts = stub.scratch / "artifacts"
        self.logins: list[dict[str, Any]] = []
        self.runner_temp = stub.scratch / "runner-temp"
        self.runner_temp.mkdir(exist_ok=True)
        self.expressions.setdefault("runner.temp", str(self.runner_temp))

    def value(self, expression: str) -> str:
        if expression in self.expressions:
            return self.expressions[expression]
        kind, _, name = expression.partition(".")
        if kind in ("secrets", "vars"):
            return f"{kind}-{name}"
        raise AssertionError(f"no stub value for the expression {expression!r}")

    def substitute(self, text: str) -> str:
        return _EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def job(self, workflow: dict[str, Any], job_id: str) -> None:
        job = workflow["jobs"][job_id]
        workdir = job.get("defaults", {}).get("run", {}).get("working-directory", ".")
        for step in job["steps"]:
            env = {k: self.substitute(str(v)) for k, v in (step.get("env") or {}).items()}
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
        lines = [
            line
            for item in job["script"]
            for line in item.splitlines()
            if "pip install" not in line or "mlgitops" not in line
        ]
        self.stub.run("bash", "\n".join(lines) + "\n", env, name)
        report = job.get("artifacts", {}).get("reports", {}).get("dotenv")
        if report:
            for line in (self.stub.workspace / report).read_text().splitlines():
                key, _, value = line.partition("=")
                self.dotenv[key] = value


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded
