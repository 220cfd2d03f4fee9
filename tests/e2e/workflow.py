"""Run a compiled GitHub workflow's own step scripts on this machine, job after job.

Nothing of the pipeline is re-typed here: every ``run:`` script and its ``env:`` come from
the workflow file mlgitops wrote. Jobs run in ``needs`` order; a job that calls a local
reusable workflow (``uses: ./.github/workflows/x.yml``) runs that workflow's jobs with the
``with:`` values as ``inputs``, so the runner follows however the CI output is split into
files. What GitHub's runner would provide is stood in for:

* the checkout is the scratch repository itself (one workspace for every job), and the
  training container is this machine with the e2e virtualenv first on PATH;
* ``actions/upload-artifact`` / ``download-artifact`` copy through a directory;
* ``${{ … }}`` expressions are resolved from step outputs (``$GITHUB_OUTPUT``), job outputs,
  ``inputs`` and a few ``github.*``/``runner.*`` values; any other expression fails the test;
* steps that install mlgitops (or, without ``spec.ci.mlgitops``, stop because nothing pins
  it) or open a pull request are skipped: mlgitops comes from the checkout under test, and
  there is no GitHub to push to.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from github_expressions import condition

FROM_JSON = re.compile(r"\$\{\{\s*fromJSON\(([\w.-]+)\)\s*\}\}")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INSTALLS_MLGITOPS = re.compile(r"pip install\b.*\bmlgitops\b|mlgitops is not installed: spec\.ci\.mlgitops")
STEP_TIMEOUT_SECONDS = 180


@dataclass
class StepRun:
    job: str
    name: str
    output: str


@dataclass
class LocalRunner:
    """Runs workflows of ``repo`` (a git checkout) with ``base_env`` and per-variable ``overrides``."""

    repo: Path
    temp: Path
    base_env: Mapping[str, str]
    github: Mapping[str, str]
    # The script's variables to replace (only those the step sets), given the script.
    overrides: Callable[[str], Mapping[str, str]] = lambda _script: {}
    skip_jobs: frozenset[str] = frozenset()
    log: list[StepRun] = field(default_factory=list)

    def run_workflow(self, path: Path, inputs: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """Run every job of the workflow at ``path``; returns each job's outputs."""
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        jobs: dict[str, Any] = workflow["jobs"]
        outputs: dict[str, dict[str, str]] = {}
        for job_id in _needs_order(jobs):
            if job_id in self.skip_jobs:
                continue
            job = jobs[job_id]
            needs = {j: {"outputs": o} for j, o in outputs.items()}
            context: dict[str, Any] = {"inputs": dict(inputs), "needs": needs}
            if not self.condition(job.get("if"), context):
                outputs[job_id] = {}
                continue
            if isinstance(job.get("uses"), str):
                outputs[job_id] = self._call(path, job, context)
            else:
                outputs[job_id] = self._run_job(job_id, job, context)
        return outputs

    def _call(self, caller: Path, job: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
        uses: str = job["uses"]
        if not uses.startswith("./"):
            pytest.fail(f"job calls a remote workflow {uses}; only local ones can run here", pytrace=False)
        # Relative to the tree holding the caller's .github/ (the project's, when it is not the
        # repository root, as for the examples here).
        callee_path = caller.parents[2] / uses
        callee = yaml.safe_load(callee_path.read_text(encoding="utf-8"))
        declared = (callee.get("on") or callee.get(True) or {}).get("workflow_call") or {}
        inputs = {name: str(spec.get("default", "")) for name, spec in (declared.get("inputs") or {}).items()}
        inputs.update({k: self.resolve(str(v), context) for k, v in (job.get("with") or {}).items()})
        job_outputs = self.run_workflow(callee_path, inputs)
        return {
            name: self.resolve(
                str(spec["value"]), {"jobs": {j: {"outputs": o} for j, o in job_outputs.items()}}
            )
            for name, spec in (declared.get("outputs") or {}).items()
        }

    def _run_job(self, job_id: str, job: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
        steps: dict[str, Any] = {}
        context = {**context, "steps": steps}
        default_dir = ((job.get("defaults") or {}).get("run") or {}).get("working-directory", ".")
        job_env = self.environment(job.get("env"), context)
        for index, step in enumerate(job.get("steps") or []):
            name = str(step.get("name") or step.get("id") or f"step {index}")
            if not self.condition(step.get("if"), context):
                continue
            if "uses" in step:
                self._action(step, context)
                continue
            script = str(step["run"])
            if INSTALLS_MLGITOPS.search(script) or "gh pr create" in script:
                continue
            env = {**job_env, **self.environment(step.get("env"), context)}
            env.update({k: v for k, v in self.overrides(script).items() if k in env})
            workdir = self.repo / str(step.get("working-directory", default_dir))
            outputs_file = self.temp / f"github-output-{job_id}-{index}"
            outputs_file.write_text("", encoding="utf-8")
            full_env = {
                **self.base_env,
                **env,
                "GITHUB_OUTPUT": str(outputs_file),
                "GITHUB_WORKSPACE": str(self.repo),
                "RUNNER_TEMP": str(self.temp),
            }
            shell = step.get("shell", "bash")
            argv = (
                ["sh", "-e", "-c", script]
                if shell == "sh"
                else ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
            )
            done = subprocess.run(
                argv,
                cwd=workdir,
                env=full_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT_SECONDS,
                check=False,
            )
            self.log.append(StepRun(job_id, name, done.stdout + done.stderr))
            if done.returncode != 0:
                pytest.fail(
                    f"job {job_id}, step {name!r} exited with {done.returncode}:\n{done.stdout}{done.stderr}",
                    pytrace=False,
                )
            if "id" in step:
                steps[str(step["id"])] = {"outputs": _read_outputs(outputs_file)}
        return {k: self.resolve(str(v), context) for k, v in (job.get("outputs") or {}).items()}

    def _action(self, step: dict[str, Any], context: dict[str, Any]) -> None:
        action = str(step["uses"]).split("@", 1)[0]
        given = {k: self.resolve(str(v), context) for k, v in (step.get("with") or {}).items()}
        store = self.temp / "artifacts"
        if action in ("actions/checkout", "actions/setup-python"):
            return  # the scratch repository is the checkout; the e2e environment the Python
        if action == "actions/upload-artifact":
            source = self.repo / given["path"]
            target = store / given["name"]
            shutil.rmtree(target, ignore_errors=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir(parents=True)
                shutil.copy2(source, target / source.name)
            return
        if action == "actions/download-artifact":
            target = self.repo / given["path"]  # an absolute path (runner.temp) stays absolute
            shutil.copytree(store / given["name"], target, dirs_exist_ok=True)
            return
        pytest.fail(f"the e2e runner does not know the action {action}", pytrace=False)

    def environment(self, declared: Any, context: Mapping[str, Any]) -> dict[str, str]:
        """A job's or step's ``env``: a mapping, or ``${{ fromJSON(inputs.X) }}`` (how the reusable
        workflow takes a model's variables)."""
        if declared is None:
            return {}
        if isinstance(declared, str):
            match = FROM_JSON.fullmatch(declared.strip())
            if match is None:
                pytest.fail(f"the e2e runner cannot read env {declared!r}", pytrace=False)
            loaded = json.loads(self._lookup(match.group(1), context) or "{}")
            return {str(k): str(v) for k, v in loaded.items()}
        return {k: self.resolve(str(v), context) for k, v in declared.items()}

    def condition(self, text: Any, context: Mapping[str, Any]) -> bool:
        """An ``if:`` of the generated workflows (tests/github_expressions.py); nothing has failed
        when a job or step is reached here (a failure stops the run)."""
        return condition(text, lambda name: self._lookup(name, context))

    def resolve(self, text: str, context: Mapping[str, Any]) -> str:
        """``text`` with every ``${{ expression }}`` replaced by its value."""

        def value(match: re.Match[str]) -> str:
            return self._lookup(match.group(1), context)

        return EXPRESSION.sub(value, text)

    def _lookup(self, expression: str, context: Mapping[str, Any]) -> str:
        parts = expression.split(".")
        if parts[0] == "github" and len(parts) == 2 and parts[1] in self.github:
            return self.github[parts[1]]
        if expression == "runner.temp":
            return str(self.temp)
        if parts[0] == "secrets" and len(parts) == 2:
            return ""  # as on GitHub, a secret the repository does not set is empty
        found: Any = context
        for part in parts:
            if not isinstance(found, Mapping) or part not in found:
                pytest.fail(f"the e2e runner cannot resolve ${{{{ {expression} }}}}", pytrace=False)
            found = found[part]
        if isinstance(found, Mapping):
            pytest.fail(f"${{{{ {expression} }}}} is not a value", pytrace=False)
        return str(found)


def _read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines a step appended to ``$GITHUB_OUTPUT`` (the heredoc form is not used)."""
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return dict(pairs)


def _needs_order(jobs: Mapping[str, Any]) -> list[str]:
    """Job ids so that every job comes after the jobs it needs (file order otherwise)."""
    ordered: list[str] = []

    def visit(job_id: str, path: tuple[str, ...]) -> None:
        if job_id in ordered:
            return
        if job_id in path:
            pytest.fail(f"jobs need each other in a cycle: {' -> '.join((*path, job_id))}", pytrace=False)
        needs = jobs[job_id].get("needs") or []
        for needed in [needs] if isinstance(needs, str) else needs:
            visit(str(needed), (*path, job_id))
        ordered.append(job_id)

    for job_id in jobs:
        visit(job_id, ())
    return ordered
