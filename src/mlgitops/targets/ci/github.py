"""GitHub Actions target: pull-request validation, per-model training pipelines, promotion.

Hardening, each checked by the tests:

* ``permissions: contents: read`` for every workflow, widened per job only where
  a job pushes a branch or opens a pull request;
* every action pinned to a full commit SHA, its release in a comment;
* no expression with untrusted input inside ``run:``: workflow inputs and spec
  values reach scripts as environment variables, and any ``${{`` inside a spec
  value is escaped so GitHub prints it instead of evaluating it;
* ``persist-credentials: false`` on checkout, a concurrency group per workflow,
  ``timeout-minutes`` on every job;
* promotion jobs run in the target GitHub environment, so environments with
  ``approval: required`` wait for their protection rules (required reviewers).
"""

from __future__ import annotations

import re
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets import retrain
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.ci import cloud, contract, plan, promotion, stores
from mlgitops.targets.ci.fingerprint import fingerprint_path

# action → (full commit SHA, release): pinned, reviewed by hand when bumped.
ACTIONS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/upload-artifact": ("b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882", "v4.4.3"),
    "actions/download-artifact": ("fa0a91b85d4f404e444e00e005971372dc801d16", "v4.1.8"),
    **cloud.ACTIONS,
}
RUNNER = "ubuntu-24.04"
WORKFLOWS = ".github/workflows"
_TRAINED_VERSION = Trusted("${{ needs.train.outputs.version }}")
_USES = re.compile(r'^(\s*(?:- )?uses: )"?([^"@\s]+)@([0-9a-f]{40})"?$', re.MULTILINE)


def escape(text: str) -> str:
    """Make ``${{`` in a spec value literal: GitHub evaluates ``${{ '${{' }}`` to the text ``${{``."""
    return text.replace("${{", "${{ '${{' }}")


def uses(action: str) -> str:
    sha, _release = ACTIONS[action]
    return f"{action}@{sha}"


def secret(name: str) -> Trusted:
    """A reference to a CI secret (names are validated identifiers, so this is safe)."""
    return Trusted("${{ secrets.%s }}" % name)  # noqa: UP031 - braces of the expression syntax


def annotate_pins(text: str) -> str:
    """Put each pinned action's release in a comment, as reviewers and Dependabot expect."""
    return _USES.sub(lambda m: f"{m.group(1)}{m.group(2)}@{m.group(3)}  # {ACTIONS[m.group(2)][1]}", text)


class GitHub:
    """The project-wide workflows: pull-request validation and promotion."""

    name = "github"
    scope = "project"
    templates = "github"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        common = self._common(project)
        files = [
            self._file(
                ctx,
                "validate.yml.j2",
                {
                    **common,
                    "paths": self._pr_paths(project),
                    # The plan job and the sticky comment (hook: a template may drop them).
                    "plan": {"compute": plan.GITHUB_PLAN, "comment": plan.GITHUB_COMMENT},
                    "tests": self._tests(project),
                },
                f"{WORKFLOWS}/mlgitops-validate.yml",
                "mlgitops.yaml",
            ),
            self._file(
                ctx,
                "promote.yml.j2",
                {**common, "models": [m.name for m in project.models]},
                f"{WORKFLOWS}/mlgitops-promote.yml",
                "mlgitops.yaml",
            ),
        ]
        return files

    def _file(
        self, ctx: RenderContext, template: str, context: dict[str, Any], path: str, source: str
    ) -> OutputFile:
        rendered = ctx.yaml_file(self.templates, template, context, path=path, source=source, escape=escape)
        return OutputFile(
            rendered.path, annotate_pins(rendered.content), rendered.source, rendered.environment
        )

    @staticmethod
    def _common(project: ir.Project) -> dict[str, Any]:
        token_steps, pr_token = cloud.github_pr_token(project.ci_settings)
        return {
            # Extra steps before the promotion pull request is opened, and its token.
            "token_steps": token_steps,
            "pr_token": pr_token,
            "pr_body": promotion.PR_BODY,
            "gate_report": promotion.GATE_REPORT,
            "project": project,
            "runner": RUNNER,
            "checkout": uses("actions/checkout"),
            "setup_python": uses("actions/setup-python"),
            "upload_artifact": uses("actions/upload-artifact"),
            "download_artifact": uses("actions/download-artifact"),
            "python_version": contract.PYTHON_VERSION,
            "install": contract.install_command(),
            "workdir": project.repo_subdir or ".",
            "environments": [e.name for e in project.environments],
            "first_env": project.environments[0].name,
        }

    @staticmethod
    def _pr_paths(project: ir.Project) -> list[str]:
        prefix = contract.escape_literal(
            f"{project.repo_subdir}/" if project.repo_subdir else "", contract.GITHUB_SPECIAL
        )
        test_paths = [
            prefix + contract.glob_path(p, "**") for t in project.ci_settings.tests for p in t.paths
        ]
        patterns = [*contract.spec_input_patterns(project, "**"), f"{prefix}{WORKFLOWS}/mlgitops-*.yml"]
        return list(dict.fromkeys([*patterns, *test_paths]))

    @staticmethod
    def _tests(project: ir.Project) -> list[dict[str, Any]]:
        """spec.ci.tests: a job each, its command passed word by word in variables."""
        return [
            {
                "job": f"test-{test.name}",
                "test": test,
                "env": contract.command_variables("MLGITOPS_TEST_CMD", test.command, ()),
                "run": "set -eu\n" + contract.run_variables("MLGITOPS_TEST_CMD", len(test.command)),
            }
            for test in project.ci_settings.tests
        ]

    @staticmethod
    def _training(project: ir.Project, model: ir.Model, training: ir.Training) -> dict[str, Any]:
        prefix = contract.escape_literal(
            f"{project.repo_subdir}/" if project.repo_subdir else "", contract.GITHUB_SPECIAL
        )
        kubernetes = training.runner == "kubernetes"
        upload = stores.uploads(model)
        ci_secrets = {v.name: secret(v.ci_secret) for v in training.env if v.ci_secret}
        literal_env = {v.name: v.value for v in training.env if v.value is not None}
        contract_env = {
            "MLGITOPS_MODEL": model.name,
            "ARTIFACT_TEMPLATE": model.artifact or "",
            **contract.data_variables(model),
        }
        evaluation = model.evaluation
        registry = model.registry
        registry_env: dict[str, Any] = {"REGISTERED_NAME": registry.model_name}
        if registry.kind == "mlflow":
            registry_env["MLFLOW_TRACKING_URI"] = registry.tracking_uri or ""
            registry_env["REGISTRY_ALIAS"] = registry.alias or ""
            if registry.credentials is not None and registry.credentials.ci_secret:
                registry_env["MLFLOW_TRACKING_TOKEN"] = secret(registry.credentials.ci_secret)
        first = project.environments[0]
        train_words = contract.command_variables("MLGITOPS_TRAIN_CMD", training.command, training.args)
        eval_words = contract.command_variables(
            "MLGITOPS_EVAL_CMD", evaluation.command if evaluation else (), ()
        )
        return {
            "model": model,
            "training": training,
            "job_margin_minutes": contract.TRAIN_JOB_MARGIN_MINUTES,
            "kubernetes": kubernetes,
            "schedule": training.schedule,
            # The drift check starts this workflow when a feature drifts (docs/drift.md).
            "retrain_event": retrain.event_type(model.name) if retrain.retrains(model) else None,
            "push_paths": [
                prefix + contract.escape_literal(fingerprint_path(project, model), contract.GITHUB_SPECIAL),
                *(prefix + contract.glob_path(p, "**") for p in training.paths),
            ],
            "branch": project.revision,
            "train_env": {
                **contract_env,
                **literal_env,
                **ci_secrets,
                "MLGITOPS_OUTPUT_DIR": contract.OUTPUT_DIR,
                "VERSION": Trusted("${{ steps.version.outputs.version }}"),
                **train_words,
            },
            "train_command": contract.run_variables("MLGITOPS_TRAIN_CMD", len(train_words)),
            "job_manifest": "/".join(
                p
                for p in (project.repo_subdir, project.output, first.name, model.name, "training-job.yaml")
                if p
            ),
            "job_namespace": first.namespace,
            "eval_image": (evaluation.image if evaluation and evaluation.image else training.image),
            "eval_command": contract.run_variables("MLGITOPS_EVAL_CMD", len(eval_words)),
            "metrics_file": evaluation.metrics_file if evaluation else "metrics.json",
            "eval_env": {
                **contract_env,
                **literal_env,
                **ci_secrets,
                **eval_words,
                "METRICS_FILE": evaluation.metrics_file if evaluation else "metrics.json",
                "VERSION": _TRAINED_VERSION,
            },
            "registry_kind": registry.kind,
            # Cloud login before the upload (id-token: write on that job only).
            "login_steps": cloud.github_login_steps(project.ci_settings, model.artifact) if upload else [],
            "register_id_token": upload and cloud.github_needs_id_token(project.ci_settings, model.artifact),
            "upload_env": {
                **contract_env,
                **registry_env,
                **ci_secrets,
                **cloud.github_upload_env(project.ci_settings, registry, model.artifact),
                "VERSION": _TRAINED_VERSION,
            },
            "registry_env": {**contract_env, **registry_env, **ci_secrets, "VERSION": _TRAINED_VERSION},
            "upload": upload,
            "scripts": {
                "choose_version": contract.CHOOSE_VERSION,
                "model_uri": contract.RESOLVE_MODEL_URI,
                "train_in_cluster": (
                    "set -eu\n"
                    'export KUBECONFIG="$RUNNER_TEMP/kubeconfig"\n'
                    'printf \'%s\' "$KUBECONFIG_DATA" > "$KUBECONFIG"\n' + contract.RUN_CLUSTER_JOB
                ),
                "upload": stores.UPLOAD_MODEL,
                "register": contract.REGISTER_MLFLOW,
            },
        }


class GitHubTraining(GitHub):
    """One training workflow per model: each depends on its model only, so they render in
    parallel chunks of models."""

    name = "github-train"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        common = self._common(project)
        return [
            self._file(
                ctx,
                "train.yml.j2",
                {**common, **self._training(project, model, model.training)},
                f"{WORKFLOWS}/mlgitops-train-{model.name}.yml",
                model.source,
            )
            for model in project.models
            if model.training is not None
        ]
