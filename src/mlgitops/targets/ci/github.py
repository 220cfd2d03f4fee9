"""GitHub Actions target: pull-request validation, per-model training pipelines, promotion.

Structure: the steps live once per project in reusable workflows (``on: workflow_call``):
``mlgitops-reusable-train.yml`` (version → train → evaluate → gate → register) and
``mlgitops-promote.yml`` (also run by hand). Each model's ``mlgitops-train-<model>.yml`` is
its triggers and two calls whose ``with:`` carries the model's values, its environment
variables as one JSON object that the called jobs read with ``env: ${{ fromJSON(...) }}``, so a
thousand models stay near 1 KB each and a template change rewrites one file, not a thousand.

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

import json
import re
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.repoplace import root_source, workflow_path, workflow_prefix, workflow_ref
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
# Workflow kinds (repoplace.workflow_path names the files after the project's place).
REUSABLE_TRAIN = "reusable-train"
PROMOTE = "promote"
# Secrets every project's training workflow declares (the callers pass those they use).
KUBECONFIG_SECRET = "MLGITOPS_KUBECONFIG"
REGISTRY_TOKEN_SECRET = "MLGITOPS_REGISTRY_TOKEN"
_PR_OR_REF = "${{ github.event.pull_request.number || github.ref }}"
_VERSION = Trusted("${{ needs.version.outputs.version }}")
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
    """The project-wide workflows: pull-request validation, the reusable training pipeline and
    promotion."""

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
                    # Hook: jobs (name → job mapping) that must pass before validation.
                    "pre_validate_jobs": {},
                    # The plan job and the sticky comment (hook: a template may drop them).
                    "plan": {"compute": plan.GITHUB_PLAN, "comment": plan.GITHUB_COMMENT},
                    "tests": self._tests(project),
                    "concurrency_group": _group(project, "validate-", _PR_OR_REF),
                },
                workflow_path(project.repo_subdir, "validate"),
                root_source(project.repo_subdir, "mlgitops.yaml"),
            ),
            self._file(
                ctx,
                "promote.yml.j2",
                {
                    **common,
                    "models": [m.name for m in project.models],
                    "concurrency_group": _group(project, "promote-", "${{ inputs.model }}"),
                },
                workflow_path(project.repo_subdir, PROMOTE),
                root_source(project.repo_subdir, "mlgitops.yaml"),
            ),
        ]
        if any(m.training is not None for m in project.models):
            files.append(
                self._file(
                    ctx,
                    "reusable-train.yml.j2",
                    {**common, **self._reusable_training(project)},
                    workflow_path(project.repo_subdir, REUSABLE_TRAIN),
                    root_source(project.repo_subdir, "mlgitops.yaml"),
                )
            )
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
            "token_secret": cloud.github_pr_token_secret(project.ci_settings),
            "project": project,
            "runner": RUNNER,
            "checkout": uses("actions/checkout"),
            "setup_python": uses("actions/setup-python"),
            "upload_artifact": uses("actions/upload-artifact"),
            "download_artifact": uses("actions/download-artifact"),
            "python_version": contract.PYTHON_VERSION,
            "install": contract.install_command(project.ci_install),
            # spec.ci.mlgitops.image: the jobs that run mlgitops run in it, with no Python set-up.
            "mlgitops_image": contract.mlgitops_image(project.ci_install),
            "workdir": project.repo_subdir or ".",
            # Workflow files and concurrency groups of projects sharing a repository must differ.
            "workflow_prefix": workflow_prefix(project.repo_subdir),
            "environments": [e.name for e in project.environments],
            "first_env": project.environments[0].name,
        }

    @staticmethod
    def _pr_paths(project: ir.Project) -> list[str]:
        # The workflows sit at the repository root, named after the project's place in it.
        workflows = contract.escape_literal(
            f"{WORKFLOWS}/{workflow_prefix(project.repo_subdir)}", contract.GITHUB_SPECIAL
        )
        project_dir = contract.escape_literal(
            f"{project.repo_subdir}/" if project.repo_subdir else "", contract.GITHUB_SPECIAL
        )
        test_paths = [
            project_dir + contract.glob_path(p, "**") for t in project.ci_settings.tests for p in t.paths
        ]
        patterns = [
            *contract.spec_input_patterns(project, "**"),
            *contract.install_inputs(project),
            f"{workflows}*.yml",
        ]
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
    def _reusable_training(project: ir.Project) -> dict[str, Any]:
        """The reusable training workflow's context: the secrets of every model's training
        environment (a secret must be declared to be passed; a model that does not pass one
        sees it empty), and the hooks other parts of mlgitops add steps through."""
        names = sorted(
            {v.name for m in project.models if m.training is not None for v in m.training.env if v.ci_secret}
        )
        secret_env = {name: secret(name) for name in names}
        # The registry's own token first; else a training secret of the name MLflow reads.
        fallback = " || secrets.MLFLOW_TRACKING_TOKEN" if "MLFLOW_TRACKING_TOKEN" in secret_env else ""
        registry_token = Trusted("${{ secrets.%s%s }}" % (REGISTRY_TOKEN_SECRET, fallback))  # noqa: UP031
        model_env = {
            "MLGITOPS_MODEL": Trusted("${{ inputs.model }}"),
            "ARTIFACT_TEMPLATE": Trusted("${{ inputs.artifact }}"),
        }
        first = project.environments[0]
        settings = project.ci_settings
        token_secret = cloud.github_pr_token_secret(settings)
        store_secret = cloud.STORE_CREDENTIALS_SECRET
        return {
            "secret_names": sorted(
                {
                    *names,
                    KUBECONFIG_SECRET,
                    REGISTRY_TOKEN_SECRET,
                    store_secret,
                    *filter(None, [token_secret]),
                }
            ),
            # The promotion token's secret, passed on to the called promotion workflow.
            "promote_secrets": {token_secret: secret(token_secret)} if token_secret else {},
            # The register job may get an OpenID Connect token when some model logs in to a cloud.
            "register_id_token": id_token_needed(project),
            # Per step: the model's JSON env is the job's; these are added (and win).
            "step_env": {
                "train": {
                    **secret_env,
                    **model_env,
                    "MLGITOPS_OUTPUT_DIR": contract.OUTPUT_DIR,
                    "VERSION": _VERSION,
                },
                "evaluate": {
                    **secret_env,
                    **model_env,
                    "METRICS_FILE": Trusted("${{ inputs.metrics-file }}"),
                    "VERSION": _VERSION,
                },
                "register": {
                    **secret_env,
                    **model_env,
                    "REGISTERED_NAME": Trusted("${{ inputs.registered-name }}"),
                    "MLFLOW_TRACKING_URI": Trusted("${{ inputs.tracking-uri }}"),
                    "REGISTRY_ALIAS": Trusted("${{ inputs.registry-alias }}"),
                    "MLFLOW_TRACKING_TOKEN": registry_token,
                    "VERSION": _VERSION,
                },
                "upload": {
                    **secret_env,
                    **model_env,
                    **cloud.github_reusable_upload_env(settings),
                    "VERSION": _VERSION,
                },
            },
            # A model's training Job is <this directory>/<model>/training-job.yaml.
            "job_directory": "/".join(p for p in (project.repo_subdir, project.output, first.name) if p),
            "job_namespace": first.namespace,
            "reusable_promote": workflow_ref(project.repo_subdir, PROMOTE),
            # Hook: steps (action or run mappings) that log in to clouds and artifact stores,
            # run before the upload and registration.
            "login_steps": cloud.github_reusable_login_steps(settings),
            "scripts": {
                "choose_version": contract.CHOOSE_VERSION,
                "model_uri": contract.RESOLVE_MODEL_URI,
                "train_in_cluster": (
                    "set -eu\n"
                    'JOB_MANIFEST="$JOB_DIRECTORY/$MLGITOPS_MODEL/training-job.yaml"\n'
                    'export KUBECONFIG="$RUNNER_TEMP/kubeconfig"\n'
                    'printf \'%s\' "$KUBECONFIG_DATA" > "$KUBECONFIG"\n' + contract.RUN_CLUSTER_JOB
                ),
                "run_train": contract.run_numbered_variables("MLGITOPS_TRAIN_CMD"),
                "run_eval": contract.run_numbered_variables(
                    "MLGITOPS_EVAL_CMD",
                    otherwise='cp "$MLGITOPS_MODEL_DIR/$MLGITOPS_METRICS_FILE" "$MLGITOPS_METRICS_FILE"',
                ),
                "upload": stores.UPLOAD_MODEL,
                "register": contract.REGISTER_MLFLOW,
            },
        }

    @staticmethod
    def _training(project: ir.Project, model: ir.Model, training: ir.Training) -> dict[str, Any]:
        """A model's training workflow: its triggers and the inputs of the reusable pipeline."""
        prefix = contract.escape_literal(
            f"{project.repo_subdir}/" if project.repo_subdir else "", contract.GITHUB_SPECIAL
        )
        kubernetes = training.runner == "kubernetes"
        evaluation = model.evaluation
        registry = model.registry
        env = {
            **contract.data_variables(model),
            **{v.name: v.value for v in training.env if v.value is not None},
            **contract.command_variables("MLGITOPS_TRAIN_CMD", training.command, training.args),
            **contract.command_variables("MLGITOPS_EVAL_CMD", evaluation.command if evaluation else (), ()),
        }
        caller_secrets = {v.name: secret(v.ci_secret) for v in training.env if v.ci_secret}
        # Only the values that differ from the reusable workflow's defaults: a thousand
        # callers are most of a large project's CI YAML.
        inputs: dict[str, Any] = {"model": model.name, "version": Trusted("${{ inputs.version }}")}
        if kubernetes:
            inputs["in-cluster"] = True
            caller_secrets[KUBECONFIG_SECRET] = secret(KUBECONFIG_SECRET)
        inputs |= {
            "image": training.image,
            "timeout-minutes": training.timeout_minutes + contract.TRAIN_JOB_MARGIN_MINUTES,
            "artifact": model.artifact or "",
            "env": _json(env),
        }
        if evaluation is not None and evaluation.image and evaluation.image != training.image:
            inputs["eval-image"] = evaluation.image
        if evaluation is not None and evaluation.metrics_file != "metrics.json":
            inputs["metrics-file"] = evaluation.metrics_file
        inputs["registered-name"] = registry.model_name
        if registry.kind == "mlflow":
            inputs["register-mlflow"] = True
            inputs["tracking-uri"] = registry.tracking_uri or ""
            if registry.alias:
                inputs["registry-alias"] = registry.alias
            if registry.credentials is not None and registry.credentials.ci_secret:
                caller_secrets[REGISTRY_TOKEN_SECRET] = secret(registry.credentials.ci_secret)
        store_secret = cloud.store_secret(registry)
        if store_secret and stores.uploads(model):
            caller_secrets[cloud.STORE_CREDENTIALS_SECRET] = secret(store_secret)
        token_secret = cloud.github_pr_token_secret(project.ci_settings)
        if token_secret:
            caller_secrets[token_secret] = secret(token_secret)
        return {
            "model": model,
            "schedule": training.schedule,
            # The drift check starts this workflow when a feature drifts (docs/drift.md).
            "retrain_event": retrain.event_type(model.name) if retrain.retrains(model) else None,
            "push_paths": [
                prefix + contract.escape_literal(fingerprint_path(project, model), contract.GITHUB_SPECIAL),
                *(prefix + contract.glob_path(p, "**") for p in training.paths),
            ],
            "branch": project.revision,
            "reusable_train": workflow_ref(project.repo_subdir, REUSABLE_TRAIN),
            "train_inputs": inputs,
            # The called register job asks for id-token: write; a caller must grant it.
            "id_token": id_token_needed(project),
            "caller_secrets": caller_secrets,
        }


def id_token_needed(project: ir.Project) -> bool:
    """Whether some model trained in CI logs in to a cloud before its upload (OpenID Connect)."""
    return any(
        stores.uploads(m) and cloud.github_needs_id_token(project.ci_settings, m.artifact)
        for m in project.models
    )


def _group(project: ir.Project, kind: str, expression: str) -> Trusted:
    """A concurrency group: the workflow prefix keeps those of projects sharing a repository
    apart (it holds only [A-Za-z0-9_.-], so the text is safe unescaped)."""
    return Trusted(f"{workflow_prefix(project.repo_subdir)}{kind}{expression}")


def _json(values: dict[str, str]) -> str:
    """A JSON object as one input string: GitHub's fromJSON turns it back into a job's env."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


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
                workflow_path(project.repo_subdir, f"train-{model.name}"),
                root_source(project.repo_subdir, model.source),
            )
            for model in project.models
            if model.training is not None
        ]
