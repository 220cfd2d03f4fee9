"""GitLab CI target: the same stages as the GitHub workflows, as a small root file and
per-model child pipelines.

Structure, so that the root ``.gitlab-ci.yml`` stays small at any model count:

* ``.gitlab-ci.yml``: merge-request validation and the ``promote-to-<env>`` jobs; it includes
  ``<output>/ci/gitlab-templates.yml`` (hidden jobs holding every script, written once) and
  ``<output>/ci/gitlab-triggers.yml`` (one trigger job per model with training);
* ``<output>/ci/<model>/gitlab-ci.yml``: the model's child pipeline (``trigger: include``),
  its values as variables and its jobs ``extends`` of the hidden ones;

* merge requests run ``mlgitops validate`` and ``mlgitops check``;
* a model trains when a pipeline schedule (or a pipeline run from the web UI, or
  the pipeline trigger API, which the drift check calls to retrain)
  sets ``MLGITOPS_TRAIN`` to its name, or when a push to the default branch
  touches its training paths; GitLab keeps cron schedules in its settings, not
  in YAML, so each model's cron is listed in docs/ci.md form in the job's
  ``MLGITOPS_SCHEDULE`` variable for whoever creates the schedule;
* jobs train → evaluate → gate → register → open a merge request promoting the
  version to the first environment;
* ``promote-to-<env>`` jobs, run from the web UI with ``MLGITOPS_PROMOTE_MODEL``
  (and optionally ``MLGITOPS_PROMOTE_VERSION``), are manual for environments with
  ``approval: required`` and carry the GitLab environment so protected
  environments apply.

GitLab expands ``$VAR`` inside variable values; spec values double every ``$``
so they stay literal.  Scripts never contain spec values.
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir
from mlgitops.outputs import CI_DIR
from mlgitops.render.engine import Trusted
from mlgitops.repoplace import GITLAB_CI_FILE, root_prefix, root_source, workflow_prefix
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.ci import cloud, contract, plan, stores
from mlgitops.targets.ci.fingerprint import fingerprint_path

PYTHON_IMAGE = "python:3.12-bookworm"
KUBECTL_IMAGE = "bitnami/kubectl:1.32.4"


def escape(text: str) -> str:
    """``$$`` is GitLab's literal dollar sign in variable values."""
    return text.replace("$", "$$")


class GitLab:
    """The root file, the shared job templates and the trigger jobs."""

    name = "gitlab"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
        common = _common(project)
        trained = [m for m in project.models if m.training is not None]
        root = {
            **common,
            # GitLab refuses an included file that holds no configuration: the trigger jobs'
            # file exists only when some model trains.
            "includes": [
                {"local": prefix + templates_path(project)},
                *([{"local": prefix + triggers_path(project)}] if trained else []),
            ],
            "mr_paths": [
                *contract.spec_input_patterns(project, "**/*", gitlab=True),
                contract.escape_literal(prefix, contract.GITLAB_SPECIAL) + GITLAB_CI_FILE,
                *contract.install_inputs(project, gitlab=True),
                *self._root_paths(project),
            ],
            "environments": project.environments,
            # Hook: jobs (name → job mapping, stage validate) that must pass before validation.
            "pre_validate_jobs": {},
            "plan": Trusted(plan.GITLAB_PLAN),
            "tests": [
                {
                    "job": f"mlgitops-test-{test.name}",
                    "test": test,
                    "variables": contract.command_variables("MLGITOPS_TEST_CMD", test.command, ()),
                    "script": Trusted(contract.run_variables("MLGITOPS_TEST_CMD", len(test.command))),
                    "changes": [
                        contract.escape_literal(prefix, contract.GITLAB_SPECIAL)
                        + contract.glob_path(p, "**/*", contract.GITLAB_SPECIAL)
                        for p in test.paths
                    ],
                }
                for test in project.ci_settings.tests
            ],
            # The tests run before validation; a test whose paths did not change is not there.
            "test_needs": [
                {"job": f"mlgitops-test-{t.name}", "optional": True} for t in project.ci_settings.tests
            ],
            "token_variables": _token_variables(project),
        }
        triggers = {
            **common,
            "models": [_trigger(project, m, m.training) for m in trained if m.training is not None],
        }
        files = [
            self._file(ctx, "gitlab-ci.yml.j2", root, GITLAB_CI_FILE),
            self._file(ctx, "templates.yml.j2", {**common, **_templates(project)}, templates_path(project)),
        ]
        if trained:
            files.append(self._file(ctx, "triggers.yml.j2", triggers, triggers_path(project)))
        if project.repo_subdir and not project.ci_include_from:
            # GitLab reads only the root file: one that includes the project's. A repository with
            # several projects keeps its own root file instead (spec.ci.includeFrom).
            files.append(
                ctx.yaml_file(
                    self.name,
                    "root-include.yml.j2",
                    {"include": f"/{prefix}{GITLAB_CI_FILE}"},
                    path=root_prefix(project.repo_subdir) + GITLAB_CI_FILE,
                    source=root_source(project.repo_subdir, "mlgitops.yaml"),
                    escape=escape,
                )
            )
        return files

    @staticmethod
    def _root_paths(project: ir.Project) -> list[str]:
        """The root file GitLab starts from, when it is not the project's own."""
        if not project.repo_subdir and not project.ci_include_from:
            return []
        root_file = project.ci_include_from or GITLAB_CI_FILE
        return [contract.escape_literal(root_file, contract.GITLAB_SPECIAL)]

    def _file(self, ctx: RenderContext, template: str, context: dict[str, Any], path: str) -> OutputFile:
        return ctx.yaml_file(self.name, template, context, path=path, source="mlgitops.yaml", escape=escape)


class GitLabTraining:
    """One child pipeline per model with training: each depends on its model only, so they
    render in parallel chunks of models."""

    name = "gitlab-train"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
        include = [{"local": prefix + templates_path(project)}]
        return [
            ctx.yaml_file(
                "gitlab",
                "child.yml.j2",
                {
                    **_child(project, model, model.training),
                    "includes": include,
                    "job_prefix": job_prefix(project.repo_subdir),
                },
                path=child_path(project, model),
                source=model.source,
                escape=escape,
            )
            for model in project.models
            if model.training is not None
        ]


def job_prefix(repo_subdir: str) -> str:
    """What starts the name of every job (and hidden job) of the project at ``repo_subdir``:
    several projects' pipelines included into one root file must not share job names ("" at
    the root, so a project there keeps the plain names)."""
    return workflow_prefix(repo_subdir).removeprefix("mlgitops-") if repo_subdir else ""


def templates_path(project: ir.Project) -> str:
    return f"{project.output}/{CI_DIR}/gitlab-templates.yml"


def triggers_path(project: ir.Project) -> str:
    return f"{project.output}/{CI_DIR}/gitlab-triggers.yml"


def child_path(project: ir.Project, model: ir.Model) -> str:
    return f"{project.output}/{CI_DIR}/{model.name}/gitlab-ci.yml"


def _common(project: ir.Project) -> dict[str, Any]:
    return {
        "project": project,
        "python_image": PYTHON_IMAGE,
        "kubectl_image": KUBECTL_IMAGE,
        "install": contract.install_command(project.ci_install),
        # The jobs that run mlgitops: spec.ci.mlgitops.image when named, else Python to install it in.
        "mlgitops_image": contract.mlgitops_image(project.ci_install) or PYTHON_IMAGE,
        "workdir": project.repo_subdir or ".",
        "job_prefix": job_prefix(project.repo_subdir),
    }


def _trigger(project: ir.Project, model: ir.Model, training: ir.Training) -> dict[str, Any]:
    prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
    return {
        "name": model.name,
        # GitLab syntax written here (model names are DNS labels); the trigger API is the
        # drift check's retraining (docs/drift.md).
        "on_demand": Trusted(
            f'$MLGITOPS_TRAIN == "{model.name}" && ($CI_PIPELINE_SOURCE == "schedule"'
            ' || $CI_PIPELINE_SOURCE == "web" || $CI_PIPELINE_SOURCE == "trigger")'
        ),
        "push_paths": [
            contract.escape_literal(prefix + fingerprint_path(project, model), contract.GITLAB_SPECIAL),
            *(
                contract.escape_literal(prefix, contract.GITLAB_SPECIAL)
                + contract.glob_path(p, "**/*", contract.GITLAB_SPECIAL)
                for p in training.paths
            ),
        ],
        "child": [{"local": prefix + child_path(project, model)}],
    }


def _child(project: ir.Project, model: ir.Model, training: ir.Training) -> dict[str, Any]:
    """A model's child pipeline: every value the shared scripts read, as pipeline variables."""
    prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
    first = project.environments[0]
    evaluation = model.evaluation
    registry = model.registry
    # CI secrets are GitLab CI/CD variables already: a variable of another name maps to them.
    secrets = {v.name: v.ci_secret for v in training.env if v.ci_secret and v.ci_secret != v.name}
    if registry.kind == "mlflow" and registry.credentials is not None and registry.credentials.ci_secret:
        secrets["MLFLOW_TRACKING_TOKEN"] = registry.credentials.ci_secret
    store_secret = cloud.store_secret(registry)
    if store_secret and stores.uploads(model):
        secrets["REGISTRY_CREDENTIALS"] = store_secret  # the upload script reads it (stores.py)
    variables: dict[str, str] = {
        "MLGITOPS_MODEL": model.name,
        "ARTIFACT_TEMPLATE": model.artifact or "",
        **contract.data_variables(model),
        **{v.name: v.value for v in training.env if v.value is not None},
        **contract.command_variables("MLGITOPS_TRAIN_CMD", training.command, training.args),
        **contract.command_variables("MLGITOPS_EVAL_CMD", evaluation.command if evaluation else (), ()),
        "MLGITOPS_OUTPUT_DIR": contract.OUTPUT_DIR,
        "MLGITOPS_SCHEDULE": training.schedule or "",
        "MLGITOPS_SECRET_ALIASES": " ".join(f"{name}={source}" for name, source in sorted(secrets.items())),
        "METRICS_FILE": evaluation.metrics_file if evaluation else "metrics.json",
        "FIRST_ENV": first.name,
        "REGISTERED_NAME": registry.model_name,
        "MLGITOPS_UPLOAD": "false" if training.runner == "kubernetes" else "true",
        "MLGITOPS_REGISTRY_KIND": registry.kind,
    }
    if registry.kind == "mlflow":
        variables["MLFLOW_TRACKING_URI"] = registry.tracking_uri or ""
        variables["REGISTRY_ALIAS"] = registry.alias or ""
    if training.runner == "kubernetes":
        variables["JOB_MANIFEST"] = f"{prefix}{project.output}/{first.name}/{model.name}/training-job.yaml"
        variables["JOB_NAMESPACE"] = first.namespace
        variables["TIMEOUT_MINUTES"] = str(training.timeout_minutes)
    return {
        "training": training,
        "job_margin_minutes": contract.TRAIN_JOB_MARGIN_MINUTES,
        "kubernetes": training.runner == "kubernetes",
        "variables": variables,
        "eval_image": evaluation.image if evaluation and evaluation.image else training.image,
        "id_tokens": (
            cloud.gitlab_id_tokens(project.ci_settings, model.artifact) if stores.uploads(model) else {}
        ),
    }


# Exports each NAME=SOURCE pair of MLGITOPS_SECRET_ALIASES: the CI/CD variable SOURCE under the
# name the training code reads. Both are validated names; the case guards eval all the same.
_SECRET_ALIASES = r"""for alias in ${MLGITOPS_SECRET_ALIASES:-}; do
  case "$alias" in
    [A-Za-z_]*=[A-Za-z_]*) ;;
    *) echo "bad secret alias: $alias" >&2; exit 1 ;;
  esac
  case "${alias#*=}${alias%%=*}" in
    *[!A-Za-z0-9_]*) echo "bad secret alias: $alias" >&2; exit 1 ;;
  esac
  eval "export ${alias%%=*}=\"\${${alias#*=}:-}\""
done
"""


def _token_variables(project: ir.Project) -> dict[str, Trusted]:
    """The CI/CD variable with the project access token under the name the scripts read, when
    the spec names another (spec.ci.gitlab.tokenVar)."""
    name = project.ci_settings.gitlab_token_var
    return {"MLGITOPS_GITLAB_TOKEN": Trusted("$" + name)} if name != "MLGITOPS_GITLAB_TOKEN" else {}


def _templates(project: ir.Project) -> dict[str, Any]:
    """The hidden jobs' scripts. GitLab does not expand variables in scripts (the shell does),
    so they are not $-escaped, and they hold no spec value."""
    version = 'export MLGITOPS_VERSION="$VERSION"\n' + contract.RESOLVE_MODEL_URI
    choose = (
        'export REQUESTED_VERSION="${MLGITOPS_TRAIN_VERSION:-}" RUN_NUMBER="$CI_PIPELINE_IID"\n'
        + contract.CHOOSE_VERSION
        + 'echo "VERSION=$version" > version.env\nexport VERSION="$version"\n'
        + _SECRET_ALIASES
        + version
    )
    login, login_variables = cloud.gitlab_shared_login(project.ci_settings)
    return {
        # Hook: script lines that log in to clouds and artifact stores, run before the upload.
        "login_steps": [Trusted('if [ "$MLGITOPS_UPLOAD" = true ]; then\n' + login + "fi\n")]
        if login
        else [],
        "login_variables": login_variables,
        "token_variables": _token_variables(project),
        "scripts": {
            "train": Trusted(
                choose
                + 'mkdir -p "$MLGITOPS_OUTPUT_DIR"\n'
                + contract.run_numbered_variables("MLGITOPS_TRAIN_CMD")
            ),
            "train_in_cluster": Trusted(
                choose + 'export KUBECONFIG="$CI_PROJECT_DIR/.kubeconfig"\n'
                'printf \'%s\' "$MLGITOPS_KUBECONFIG" > "$KUBECONFIG"\n' + contract.RUN_CLUSTER_JOB
            ),
            "evaluate": Trusted(
                _SECRET_ALIASES + version + "export MLGITOPS_MODEL_DIR=mlgitops-model\n"
                'export MLGITOPS_METRICS_FILE="$METRICS_FILE"\n'
                + contract.run_numbered_variables(
                    "MLGITOPS_EVAL_CMD",
                    otherwise='cp "$MLGITOPS_MODEL_DIR/$MLGITOPS_METRICS_FILE" "$MLGITOPS_METRICS_FILE"',
                )
            ),
            "gate": Trusted(
                contract.install_command(project.ci_install) + "\n"
                'mlgitops gate "$MLGITOPS_MODEL" --env "$FIRST_ENV" \\\n'
                '  --metrics "$CI_PROJECT_DIR/$METRICS_FILE"\n'
            ),
            "register": Trusted(
                _SECRET_ALIASES + version + "export MLGITOPS_MODEL_DIR=mlgitops-model\n"
                'if [ "$MLGITOPS_UPLOAD" = true ]; then\n' + stores.UPLOAD_MODEL + "fi\n"
                'if [ "$MLGITOPS_REGISTRY_KIND" = mlflow ]; then\n' + contract.REGISTER_MLFLOW + "fi\n"
            ),
            "open_merge_request": Trusted(OPEN_MERGE_REQUEST),
        },
    }


OPEN_MERGE_REQUEST = """\
mlgitops compile
field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \\
    /tmp/mlgitops-promotion.json "$1"
}
branch="$(field branch)"
git config user.name "mlgitops"
git config user.email "mlgitops@noreply.gitlab.com"
git switch --create "$branch"
git add --all .
git commit --message "$(field commitMessage)"
git push "https://oauth2:${MLGITOPS_GITLAB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git" "$branch" \\
  -o merge_request.create -o "merge_request.target=$CI_DEFAULT_BRANCH" -o "merge_request.title=$(field title)"
"""
