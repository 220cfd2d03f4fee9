"""GitLab CI target: one ``.gitlab-ci.yml`` with the same stages as the GitHub workflows.

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
from mlgitops.render.engine import Trusted
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.ci import cloud, contract, plan, stores
from mlgitops.targets.ci.fingerprint import fingerprint_path

PYTHON_IMAGE = "python:3.12-bookworm"
KUBECTL_IMAGE = "bitnami/kubectl:1.32.4"


def escape(text: str) -> str:
    """``$$`` is GitLab's literal dollar sign in variable values."""
    return text.replace("$", "$$")


class GitLab:
    name = "gitlab"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
        context = {
            "project": project,
            "python_image": PYTHON_IMAGE,
            "kubectl_image": KUBECTL_IMAGE,
            "install": contract.install_command(),
            "workdir": project.repo_subdir or ".",
            "mr_paths": [
                *contract.spec_input_patterns(project, "**/*", gitlab=True),
                contract.escape_literal(prefix, contract.GITLAB_SPECIAL) + ".gitlab-ci.yml",
            ],
            "models": [self._model(project, m, m.training) for m in project.models if m.training is not None],
            "environments": project.environments,
            "first_env": project.environments[0].name,
            "model_names": [m.name for m in project.models],
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
            # The CI/CD variable with the project access token, when not the default name.
            "gitlab_token_alias": (
                Trusted("$" + project.ci_settings.gitlab_token_var)
                if project.ci_settings.gitlab_token_var != "MLGITOPS_GITLAB_TOKEN"
                else None
            ),
        }
        return [
            ctx.yaml_file(
                self.name,
                "gitlab-ci.yml.j2",
                context,
                path=".gitlab-ci.yml",
                source="mlgitops.yaml",
                escape=escape,
            )
        ]

    @staticmethod
    def _model(project: ir.Project, model: ir.Model, training: ir.Training) -> dict[str, Any]:
        prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
        first = project.environments[0]
        evaluation = model.evaluation
        registry = model.registry
        variables: dict[str, str] = {
            "MLGITOPS_MODEL": model.name,
            "ARTIFACT_TEMPLATE": model.artifact or "",
            **contract.data_variables(model),
            **{v.name: v.value for v in training.env if v.value is not None},
            **contract.command_variables("MLGITOPS_TRAIN_CMD", training.command, training.args),
            **contract.command_variables("MLGITOPS_EVAL_CMD", evaluation.command if evaluation else (), ()),
        }
        if training.runner == "kubernetes":
            variables["JOB_MANIFEST"] = (
                f"{prefix}{project.output}/{first.name}/{model.name}/training-job.yaml"
            )
            variables["JOB_NAMESPACE"] = first.namespace
            variables["TIMEOUT_MINUTES"] = str(training.timeout_minutes)
        registry_variables = {"REGISTERED_NAME": registry.model_name}
        if registry.kind == "mlflow":
            registry_variables["MLFLOW_TRACKING_URI"] = registry.tracking_uri or ""
            registry_variables["REGISTRY_ALIAS"] = registry.alias or ""
        # CI secrets are GitLab CI/CD variables already: a variable of another name maps to them.
        secrets = {v.name: v.ci_secret for v in training.env if v.ci_secret and v.ci_secret != v.name}
        if registry.kind == "mlflow" and registry.credentials is not None and registry.credentials.ci_secret:
            secrets["MLFLOW_TRACKING_TOKEN"] = registry.credentials.ci_secret
        login, login_variables, id_tokens = (
            cloud.gitlab_login(project.ci_settings, registry, model.artifact)
            if stores.uploads(model)
            else ("", {}, {})
        )
        return {
            "model": model,
            "training": training,
            "job_margin_minutes": contract.TRAIN_JOB_MARGIN_MINUTES,
            "kubernetes": training.runner == "kubernetes",
            "variables": variables,
            "registry_variables": {**variables, **registry_variables, **login_variables},
            "id_tokens": id_tokens,
            "schedule": training.schedule,
            "push_paths": [
                contract.escape_literal(prefix + fingerprint_path(project, model), contract.GITLAB_SPECIAL),
                *(
                    contract.escape_literal(prefix, contract.GITLAB_SPECIAL)
                    + contract.glob_path(p, "**/*", contract.GITLAB_SPECIAL)
                    for p in training.paths
                ),
            ],
            "scripts": _scripts(model, training, secrets, login),
            # Rule expressions are GitLab syntax written here (model names are DNS labels).
            "rules": {
                "scheduled": Trusted(
                    f'$CI_PIPELINE_SOURCE == "schedule" && $MLGITOPS_TRAIN == "{model.name}"'
                ),
                "on_demand": Trusted(f'$CI_PIPELINE_SOURCE == "web" && $MLGITOPS_TRAIN == "{model.name}"'),
                # The pipeline trigger API (the drift check's retraining, docs/drift.md).
                "triggered": Trusted(
                    f'$CI_PIPELINE_SOURCE == "trigger" && $MLGITOPS_TRAIN == "{model.name}"'
                ),
                "downstream": Trusted(f'$MLGITOPS_TRAIN == "{model.name}"'),
            },
            "eval_image": evaluation.image if evaluation and evaluation.image else training.image,
            "metrics_file": evaluation.metrics_file if evaluation else "metrics.json",
            "mlflow": registry.kind == "mlflow",
        }


def _scripts(
    model: ir.Model, training: ir.Training, secrets: dict[str, str], login: str
) -> dict[str, Trusted]:
    """Job scripts. GitLab does not expand variables in scripts (the shell does), so they are
    not $-escaped; the only spec values in them are shell-quoted command arguments."""
    aliases = "".join(f'export {name}="${{{source}:-}}"\n' for name, source in sorted(secrets.items()))
    version = 'export MLGITOPS_VERSION="$VERSION"\n' + contract.RESOLVE_MODEL_URI
    evaluation = model.evaluation
    evaluate = (
        contract.run_variables("MLGITOPS_EVAL_CMD", len(evaluation.command))
        if evaluation and evaluation.command
        else 'cp "$MLGITOPS_MODEL_DIR/$MLGITOPS_METRICS_FILE" "$MLGITOPS_METRICS_FILE"\n'
    )
    if training.runner == "kubernetes":
        train = (
            'export KUBECONFIG="$CI_PROJECT_DIR/.kubeconfig"\n'
            'printf \'%s\' "$MLGITOPS_KUBECONFIG" > "$KUBECONFIG"\n' + contract.RUN_CLUSTER_JOB
        )
    else:
        words = len(training.command) + len(training.args)
        train = 'mkdir -p "$MLGITOPS_OUTPUT_DIR"\n' + contract.run_variables("MLGITOPS_TRAIN_CMD", words)
    return {
        "train": Trusted(
            'export REQUESTED_VERSION="${MLGITOPS_TRAIN_VERSION:-}" RUN_NUMBER="$CI_PIPELINE_IID"\n'
            + contract.CHOOSE_VERSION
            + 'echo "VERSION=$version" > version.env\nexport VERSION="$version"\n'
            + aliases
            + version
            + train
        ),
        "evaluate": Trusted(
            aliases + version + "export MLGITOPS_MODEL_DIR=mlgitops-model\n"
            'export MLGITOPS_METRICS_FILE="$METRICS_FILE"\n' + evaluate
        ),
        "gate": Trusted(
            contract.install_command() + "\n"
            'mlgitops gate "$MLGITOPS_MODEL" --env "$FIRST_ENV" --metrics "$CI_PROJECT_DIR/$METRICS_FILE"\n'
        ),
        "upload": Trusted(
            aliases + version + "export MLGITOPS_MODEL_DIR=mlgitops-model\n" + login + stores.UPLOAD_MODEL
        ),
        "register": Trusted(aliases + version + contract.REGISTER_MLFLOW),
    }
