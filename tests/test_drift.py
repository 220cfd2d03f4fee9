"""Drift monitoring (issue 5, item 5): the drift-check CronJob and its retraining trigger.

Compiled into temporary copies: every example, the benchmark generator's project with
12 models, and two variants: the GitLab example with ``drift.retrain`` (a pipeline
trigger) and the platform example whose repository is an SSH URL on a GitHub
Enterprise host.  For each:

* every ``drift-cronjob.yaml`` validates in strict mode against Kubernetes 1.30
  (kubernetes-validate), exists exactly for each model × environment with drift, and is
  in ``kubectl kustomize deploy/<env>``;
* its schedule, image, contract variables (docs/drift.md), reference data source, live
  window, secure pod defaults and retraining secret reference follow the spec;
* retraining is wired end to end: the GitHub training workflow lists the CronJob's
  ``repository_dispatch`` event (and actionlint, ``zizmor --offline`` with docs/zizmor.yml
  and the workflow schema still accept it); GitLab's pipeline accepts triggered pipelines for the model
  (and ``check-jsonschema --builtin-schema vendor.gitlab-ci`` accepts the file).
"""

from __future__ import annotations

import datetime
import itertools
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from mlgitops_drift import settings

import mlgitops
from compile_helpers import (
    EXAMPLES,
    ROOT,
    compile_clean,
    container_environment,
    copy_specs,
    edit_yaml,
    example,
    kustomize_build,
)
from conftest import require_tool
from mlgitops.pipeline import validate_project
from mlgitops.repourl import github_problem
from mlgitops.targets.monitoring import drift as drift_target
from mlgitops.targets.monitoring import prometheus_rules
from mlgitops.targets.monitoring.schedule import MINUTES_PER_DAY, longest_gap_minutes
from mlgitops.targets.retrain import github_dispatch_url, gitlab_trigger_url

pytestmark = pytest.mark.external

KUBERNETES_VERSION = "1.30"
BENCHMARK = "benchmark-12"
GITLAB_RETRAIN = "gitlab-retrain"
ENTERPRISE = "platform-enterprise-ssh"
PROJECT_IDS = [p.name for p in EXAMPLES] + [BENCHMARK, GITLAB_RETRAIN, ENTERPRISE]
CONTRACT = (
    "MLGITOPS_MODEL",
    "MLGITOPS_ENVIRONMENT",
    "MLGITOPS_NAMESPACE",
    "MLGITOPS_FEATURES",
    "MLGITOPS_DRIFT_METHOD",
    "MLGITOPS_DRIFT_THRESHOLD",
    "MLGITOPS_REFERENCE_URI",
    "MLGITOPS_LIVE_WINDOW_SECONDS",
    "MLGITOPS_PUSHGATEWAY_URL",
)


def _gitlab_retrain(data: Any) -> None:
    data["spec"]["monitoring"]["drift"].update(
        retrain=True, retrainToken={"name": "gl-trigger", "key": "token"}
    )


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("drift")
    out = {p.name: compile_clean(copy_specs(p, base / p.name)) for p in EXAMPLES}
    bench = base / BENCHMARK
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), "12", str(bench)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    out[BENCHMARK] = compile_clean(bench)
    gitlab = copy_specs(example("gitlab-flux-k8s"), base / GITLAB_RETRAIN)
    edit_yaml(gitlab / "models/product-ranker.yaml", _gitlab_retrain)
    out[GITLAB_RETRAIN] = compile_clean(gitlab)
    enterprise = copy_specs(example("platform"), base / ENTERPRISE)
    edit_yaml(
        enterprise / "mlgitops.yaml",
        lambda d: d["spec"].update(repository="ssh://git@github.acme.internal:2222/acme/ml-platform.git"),
    )
    out[ENTERPRISE] = compile_clean(enterprise)
    return out


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _project(root: Path) -> Any:
    return _load(root / "mlgitops.yaml")


def _models(root: Path) -> dict[str, Any]:
    return {m["metadata"]["name"]: m for m in map(_load, sorted(root.glob("models/**/*.yaml")))}


def _drift(model: Any) -> Any:
    return (model["spec"].get("monitoring") or {}).get("drift")


def _cronjobs(root: Path) -> dict[tuple[str, str], Any]:
    """(model, environment) → the CronJob document."""
    return {
        (path.parent.name, path.parent.parent.name): _load(path)
        for path in sorted((root / "deploy").glob("*/*/drift-cronjob.yaml"))
    }


def _container(cronjob: Any) -> Any:
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


def _env(root: Path, env: str, cronjob: Any) -> dict[str, Any]:
    """The container's variables: the environment's shared ConfigMaps (envFrom), then its own."""
    return container_environment(root / "deploy" / env, cronjob["metadata"]["namespace"], _container(cronjob))


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_cronjobs_validate_strictly(projects: dict[str, Path], project: str) -> None:
    cronjobs = _cronjobs(projects[project])
    problems = []
    for (model, env), document in cronjobs.items():
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{env}/{model}: {'/'.join(map(str, exc.absolute_path))}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_the_projects_exercise_drift(projects: dict[str, Path]) -> None:
    assert _cronjobs(projects["platform"]) and _cronjobs(projects["gitlab-flux-k8s"])
    assert not _cronjobs(projects["quickstart"]), "quickstart has no drift monitoring"
    bench = _models(projects[BENCHMARK])
    drifting = [m["spec"]["monitoring"]["drift"] for m in bench.values() if _drift(m)]
    assert {d.get("method", "psi") for d in drifting} == {"psi", "ks"}
    assert any(d.get("retrain") for d in drifting) and any("image" in d for d in drifting)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_one_cronjob_per_model_and_environment_with_drift(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    expected = {
        (name, env)
        for name, spec in _models(root).items()
        if _drift(spec) and spec["spec"].get("lifecycle", {}).get("stage") != "retired"
        for env in spec["spec"].get("deployments", {})
    }
    assert set(_cronjobs(root)) == expected


@cache
def brute_force_gap_seconds(schedule: str) -> int:
    """The longest gap of a (simple) schedule, minute by minute over two weeks: an independent check."""

    def allowed(field: str, low: int, high: int) -> set[int]:
        values: set[int] = set()
        for part in field.split(","):
            base, _, step = part.partition("/")
            first, _, last = base.partition("-")
            start, stop = (low, high) if base == "*" else (int(first), int(last or first))
            values.update(range(start, stop + 1, int(step or 1)))
        return values

    minute, hour, dom, month, dow = schedule.split()
    minutes, hours = allowed(minute, 0, 59), allowed(hour, 0, 23)
    assert (dom, month, dow) == ("*", "*", "*"), "the brute force only handles every-day schedules"
    start = datetime.datetime(2026, 1, 5)
    runs = [
        t
        for t in (start + datetime.timedelta(minutes=i) for i in range(14 * 24 * 60))
        if t.minute in minutes and t.hour in hours
    ]
    return int(max((b - a for a, b in itertools.pairwise(runs))).total_seconds())


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_cronjobs_follow_the_spec(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    models = _models(root)
    environments = {e["name"]: e["namespace"] for e in _project(root)["spec"]["environments"]}
    for (name, env), cronjob in _cronjobs(root).items():
        spec = models[name]["spec"]
        drift = spec["monitoring"]["drift"]
        where = f"{project}: {env}/{name}"
        assert cronjob["metadata"]["namespace"] == environments[env], where
        assert cronjob["spec"]["schedule"] == drift.get("schedule", "0 * * * *"), where
        assert cronjob["spec"]["timeZone"] == "Etc/UTC"
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        assert cronjob["spec"]["successfulJobsHistoryLimit"] >= 1
        assert cronjob["spec"]["failedJobsHistoryLimit"] >= 1
        job = cronjob["spec"]["jobTemplate"]["spec"]
        assert 0 < job["activeDeadlineSeconds"] <= 3600
        container = _container(cronjob)
        image = drift.get("image", f"ghcr.io/mlgitops/mlgitops-drift:{_version()}")
        assert container["image"] == image, where
        env_vars = _env(root, env, cronjob)
        assert set(CONTRACT) <= set(env_vars), where
        assert env_vars["MLGITOPS_MODEL"] == name
        assert env_vars["MLGITOPS_ENVIRONMENT"] == env
        assert env_vars["MLGITOPS_NAMESPACE"] == environments[env]
        assert env_vars["MLGITOPS_FEATURES"].split(",") == drift["features"]
        assert env_vars["MLGITOPS_DRIFT_METHOD"] == drift.get("method", "psi")
        assert float(env_vars["MLGITOPS_DRIFT_THRESHOLD"]) == float(drift["threshold"])
        assert env_vars["MLGITOPS_DRIFT_METRIC"] == "mlgitops_feature_drift"
        sources = {s["name"]: s for s in spec["data"]}
        reference = sources[drift["reference"]] if "reference" in drift else spec["data"][0]
        assert env_vars["MLGITOPS_REFERENCE_NAME"] == reference["name"]
        assert env_vars["MLGITOPS_REFERENCE_URI"] == reference["uri"]
        assert env_vars.get("MLGITOPS_REFERENCE_VERSION") == reference.get("version")
        assert env_vars.get("MLGITOPS_CURRENT_URI") == drift.get("current"), where
        gap = brute_force_gap_seconds(cronjob["spec"]["schedule"])
        assert int(env_vars["MLGITOPS_LIVE_WINDOW_SECONDS"]) == gap, where
        assert env_vars["MLGITOPS_PUSHGATEWAY_URL"].startswith("http")
        _assert_secure(cronjob, where)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_spec_labels_on_the_cronjob_selection_labels_on_its_jobs(
    projects: dict[str, Path], project: str
) -> None:
    """The spec's labels and the annotations are on the CronJob object, once; the Jobs and pods it
    creates carry the labels that select them, nothing else."""
    kubectl = require_tool("kubectl")
    root = projects[project]
    models = _models(root)
    project_labels = _project(root)["metadata"].get("labels", {})
    built: dict[str, dict[str, Any]] = {}  # environment → CronJob name → the CronJob as applied
    for (name, env), written in _cronjobs(root).items():
        where = f"{project}: {env}/{name}"
        # as applied: the environment built with the labels and annotations its kustomization and
        # the model directory's set
        if env not in built:
            built[env] = {
                d["metadata"]["name"]: d
                for d in kustomize_build(kubectl, root / "deploy" / env)
                if d["kind"] == "CronJob"
            }
        cronjob = built[env][written["metadata"]["name"]]
        labels = cronjob["metadata"]["labels"]
        spec_labels = {**project_labels, **models[name]["metadata"].get("labels", {})}
        assert spec_labels.items() <= labels.items(), where
        assert cronjob["metadata"]["annotations"]["mlgitops.dev/source"].startswith("models/"), where
        selection = {key: value for key, value in labels.items() if key in drift_target.SELECTION_LABELS}
        assert selection["mlgitops.dev/model"] == name and selection["mlgitops.dev/environment"] == env
        template = cronjob["spec"]["jobTemplate"]
        assert {"labels": template["metadata"]["labels"]} == {"labels": selection}, where
        pod = template["spec"]["template"]["metadata"]
        assert {"labels": pod["labels"]} == {"labels": selection}, where
        assert template["metadata"].keys() == pod.keys() == {"labels"}, where


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_shared_variables_are_written_once_per_environment(projects: dict[str, Path], project: str) -> None:
    """No CronJob sets a variable of its environment's ConfigMaps itself; each environment with a
    drift check has exactly the ConfigMaps its checks read."""
    root = projects[project]
    written = {
        env_dir.name: {document["metadata"]["name"]: document["data"] for document in map(_load, files)}
        for env_dir in sorted((root / "deploy").iterdir())
        if (files := sorted(env_dir.glob("drift-*.yaml")))
    }
    read: dict[str, set[str]] = {}
    for (name, env), cronjob in _cronjobs(root).items():
        container = _container(cronjob)
        names = [source["configMapRef"]["name"] for source in container["envFrom"]]
        shared = {variable for config in names for variable in written[env][config]}
        own = {item["name"] for item in container.get("env", [])}
        own |= {settings.ARGUMENTS[arg.removeprefix("--").split("=", 1)[0]] for arg in container["args"]}
        assert not own & shared, f"{env}/{name}"
        read.setdefault(env, set()).update(names)
    assert {env: set(config_maps) for env, config_maps in written.items()} == read


def _version() -> str:
    return mlgitops.__version__


def _assert_secure(cronjob: Any, where: str) -> None:
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False, where
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = _container(cronjob)
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp must be a writable emptyDir"
    labels = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"].endswith("-drift"), "the serving Service must not select it"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_retraining_gets_its_secret_and_trigger(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    settings = _project(root)["spec"]
    models = _models(root)
    for (name, env), cronjob in _cronjobs(root).items():
        drift = models[name]["spec"]["monitoring"]["drift"]
        env_vars = _env(root, env, cronjob)
        if not drift.get("retrain"):
            assert not [k for k in env_vars if k.startswith("MLGITOPS_RETRAIN")], f"{env}/{name}"
            continue
        token = drift["retrainToken"]
        assert env_vars["MLGITOPS_RETRAIN_TOKEN"] == {
            "secretKeyRef": {"name": token["name"], "key": token["key"]}
        }
        assert not any(
            "value" in e for e in _container(cronjob)["env"] if e["name"] == "MLGITOPS_RETRAIN_TOKEN"
        )
        assert int(env_vars["MLGITOPS_RETRAIN_COOLDOWN_SECONDS"]) > 0
        ci = settings.get("ci", "github")
        ci = ci.get("system", "github") if isinstance(ci, dict) else ci  # the mapping form of spec.ci
        assert env_vars["MLGITOPS_RETRAIN_PROVIDER"] == ci
        if ci == "github":
            assert env_vars["MLGITOPS_RETRAIN_URL"] == github_dispatch_url(settings["repository"])
            assert env_vars["MLGITOPS_RETRAIN_EVENT"] == f"mlgitops-retrain-{name}"
            assert "MLGITOPS_RETRAIN_REF" not in env_vars
        else:
            assert env_vars["MLGITOPS_RETRAIN_URL"] == gitlab_trigger_url(settings["repository"])
            assert env_vars["MLGITOPS_RETRAIN_REF"] == settings.get("revision", "main")
            assert "MLGITOPS_RETRAIN_EVENT" not in env_vars


def test_the_trigger_urls_of_the_examples(projects: dict[str, Path]) -> None:
    platform = _env(projects["platform"], "prod", _cronjobs(projects["platform"])["fraud-detector", "prod"])
    assert platform["MLGITOPS_RETRAIN_URL"] == "https://api.github.com/repos/acme/ml-platform/dispatches"
    enterprise = _env(projects[ENTERPRISE], "prod", _cronjobs(projects[ENTERPRISE])["fraud-detector", "prod"])
    assert enterprise["MLGITOPS_RETRAIN_URL"] == (
        "https://github.acme.internal/api/v3/repos/acme/ml-platform/dispatches"
    )
    gitlab = _env(
        projects[GITLAB_RETRAIN], "prod", _cronjobs(projects[GITLAB_RETRAIN])["product-ranker", "prod"]
    )
    assert gitlab["MLGITOPS_RETRAIN_URL"] == (
        "https://gitlab.com/api/v4/projects/acme-shop%2Frecsys/trigger/pipeline"
    )
    assert gitlab["MLGITOPS_RETRAIN_TOKEN"] == {"secretKeyRef": {"name": "gl-trigger", "key": "token"}}


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_cronjobs_are_in_their_environments_kustomize_build(projects: dict[str, Path], project: str) -> None:
    kubectl = require_tool("kubectl")
    root = projects[project]
    cronjobs = _cronjobs(root)
    for env in sorted({env for _, env in cronjobs}):
        built = {
            (d["kind"], d["metadata"]["name"], d["metadata"]["namespace"])
            for d in kustomize_build(kubectl, root / "deploy" / env)
            if d["kind"] in ("CronJob", "ConfigMap")
        }
        for (_, cron_env), document in cronjobs.items():
            if cron_env == env:
                metadata = document["metadata"]
                assert ("CronJob", metadata["name"], metadata["namespace"]) in built
                for source in _container(document)["envFrom"]:
                    read = ("ConfigMap", source["configMapRef"]["name"], metadata["namespace"])
                    assert read in built, f"{env}/{metadata['name']} reads {read}, not in the build"


# --- retraining in CI -----------------------------------------------------------------------------


def _workflow(root: Path, model: str) -> Any:
    return _load(root / f".github/workflows/mlgitops-train-{model}.yml")


@pytest.mark.parametrize("project", ["platform", BENCHMARK, ENTERPRISE])
def test_github_training_workflows_accept_the_dispatch(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    retraining = 0
    for name, spec in _models(root).items():
        if "training" not in spec["spec"] or spec["spec"].get("lifecycle", {}).get("stage") == "retired":
            continue
        triggers = _workflow(root, name)["on"]
        if (_drift(spec) or {}).get("retrain"):
            retraining += 1
            assert triggers["repository_dispatch"] == {"types": [f"mlgitops-retrain-{name}"]}
            for (model, env), cronjob in _cronjobs(root).items():
                if model == name:
                    assert (
                        _env(root, env, cronjob)["MLGITOPS_RETRAIN_EVENT"]
                        in triggers["repository_dispatch"]["types"]
                    )
        else:
            assert "repository_dispatch" not in triggers, name
    assert retraining, f"{project} has no model with drift.retrain"


@pytest.mark.parametrize("project", ["platform", BENCHMARK])
def test_retraining_workflows_pass_the_linters(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    files = sorted(p.relative_to(root).as_posix() for p in (root / ".github/workflows").glob("*.yml"))
    assert any("repository_dispatch" in (root / f).read_text() for f in files)
    checks = [
        [require_tool("actionlint"), "-no-color", *files],
        [
            require_tool("zizmor"),
            "--offline",
            "--no-ignores",
            "--no-progress",
            "--color=never",
            *("--config", str(ROOT / "docs/zizmor.yml")),
            ".github/workflows",
        ],
        [require_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
    ]
    for args in checks:
        run = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, f"{Path(args[0]).name}:\n{run.stdout}{run.stderr}"


def test_gitlab_accepts_triggered_training(projects: dict[str, Path]) -> None:
    root = projects[GITLAB_RETRAIN]
    pipeline = _load(root / ".gitlab-ci.yml")
    assert {"if": '$CI_PIPELINE_SOURCE == "trigger"'} in pipeline["workflow"]["rules"]
    # The trigger job (in the included file) starts the model's child pipeline, whose jobs
    # have no rules of their own: the rest follows a train job started by any source.
    train = _load(root / "deploy/ci/gitlab-triggers.yml")["train-product-ranker"]
    rule = train["rules"][0]["if"]
    assert rule.startswith('$MLGITOPS_TRAIN == "product-ranker" && (')
    assert '$CI_PIPELINE_SOURCE == "trigger"' in rule
    assert train["trigger"]["include"] == [{"local": "deploy/ci/product-ranker/gitlab-ci.yml"}]
    child = _load(root / "deploy/ci/product-ranker/gitlab-ci.yml")
    for job in ("train", "evaluate", "gate", "register", "propose"):
        assert "rules" not in child[job]
    run = subprocess.run(
        [
            *(require_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"),
            *("deploy/ci/gitlab-triggers.yml", "deploy/ci/product-ranker/gitlab-ci.yml"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# --- units ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "dispatch", "trigger"),
    [
        (
            "https://github.com/acme/ml.git",
            "https://api.github.com/repos/acme/ml/dispatches",
            "https://github.com/api/v4/projects/acme%2Fml/trigger/pipeline",
        ),
        (
            "git@github.com:acme/ml.git",
            "https://api.github.com/repos/acme/ml/dispatches",
            "https://github.com/api/v4/projects/acme%2Fml/trigger/pipeline",
        ),
        (
            "ssh://git@gitlab.acme.internal:2222/data/science/ranker.git",
            "https://gitlab.acme.internal/api/v3/repos/data/science/ranker/dispatches",
            "https://gitlab.acme.internal/api/v4/projects/data%2Fscience%2Franker/trigger/pipeline",
        ),
        (
            "http://gitlab.local:8080/group/project",
            "http://gitlab.local:8080/api/v3/repos/group/project/dispatches",
            "http://gitlab.local:8080/api/v4/projects/group%2Fproject/trigger/pipeline",
        ),
    ],
)
def test_trigger_urls_from_repository_urls(url: str, dispatch: str, trigger: str) -> None:
    assert github_dispatch_url(url) == dispatch
    assert gitlab_trigger_url(url) == trigger


def test_a_github_repository_needs_owner_and_name() -> None:
    assert github_problem("https://github.com/acme/ml.git") is None
    assert github_problem("git@github.com:acme/ml") is None
    assert github_problem("https://github.com/acme.git") is not None
    assert github_problem("https://github.com/a/b/c.git") is not None


@pytest.mark.parametrize(
    ("schedule", "window"),
    [
        ("0 * * * *", "1h"),
        ("*/15 * * * *", "15m"),
        ("0 */6 * * *", "6h"),
        ("30 2 * * *", "1d"),
        ("0 3 * * 1", "7d"),
        ("0 9-17 * * 1-5", "2d16h"),  # hourly on weekdays: the weekend is the longest gap
        ("0 0 1,15 * *", "17d"),  # the 15th to the 1st of a 31-day month
        ("0 0 1,15 * 1", "7d"),  # day of month OR Monday: cron's rule when both are restricted
        ("0 0 29 2 *", "1461d"),  # leap days
    ],
)
def test_live_window_is_the_longest_gap(schedule: str, window: str) -> None:
    def duration(minutes: int) -> str:  # 90 → 1h30m, as the table reads
        days, rest = divmod(minutes, MINUTES_PER_DAY)
        hours, mins = divmod(rest, 60)
        return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n)

    gap = longest_gap_minutes(schedule)
    assert gap is not None and duration(gap) == window


def test_the_metric_is_the_alerts_metric() -> None:
    """The drift check pushes exactly the gauge the PrometheusRule alerts on."""
    assert drift_target.METRIC == prometheus_rules.DRIFT_METRIC == "mlgitops_feature_drift"
    contract = (ROOT / "docs/drift.md").read_text(encoding="utf-8")
    assert 'mlgitops_feature_drift{model="<model>", environment="<env>", feature="<feature>"' in contract


def test_an_infinite_threshold_is_refused(tmp_path: Path) -> None:
    """No score passes .inf (and JSON, the dashboards' format, cannot even write it)."""
    root = copy_specs(example("gitlab-flux-k8s"), tmp_path / "inf")
    edit_yaml(
        root / "models/product-ranker.yaml",
        lambda d: d["spec"]["monitoring"]["drift"].update(threshold=1e400),
    )
    codes = {(d.code, d.location.file if d.location else None) for d in validate_project(root).diagnostics}
    assert ("MLG208", "models/product-ranker.yaml") in codes
