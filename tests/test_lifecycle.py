"""Model lifecycle (issue 6): retirement prunes everything a model had, deprecation annotates.

* ``lifecycle.stage: retired`` (with the deployments removed): compile prunes every
  generated file of the model — serving, monitoring, training, its CI workflow — and
  edits the shared ones (kustomizations, GitOps objects, the promotion workflow) so that
  no generated file mentions the model any more; the manifest lists it under
  ``retired``; files the user added are kept; ``check`` passes afterwards.
* ``deprecated``: the model's Kubernetes objects carry ``mlgitops.dev/deprecated``,
  ``mlgitops.dev/sunset`` and ``mlgitops.dev/replaced-by``; past the sunset date
  ``validate`` warns (MLG318, exit 0) and ``--strict`` fails.

The deprecation tests read the objects as Argo CD and Flux apply them (``kubectl kustomize
deploy/<env>``): the model directory's kustomization sets the model's annotations.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import copy_specs, edit_yaml, example, kustomize_build
from conftest import CliRunner, require_tool
from mlgitops.pipeline import compile_project, validate_project
from mlgitops.results import CompileResult

PLATFORM_MODELS = ("churn-model", "fraud-detector", "support-llm")
DEPRECATION = "mlgitops.dev/deprecated"
SUNSET = "mlgitops.dev/sunset"
REPLACED_BY = "mlgitops.dev/replaced-by"


def compiled(root: Path) -> CompileResult:
    result = compile_project(root)
    assert result.ok, "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    return result


def manifest(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / ".mlgitops/manifest.json").read_text(encoding="utf-8"))
    return loaded


def mentioning(root: Path, name: str) -> set[str]:
    """Generated files (per the manifest) whose path or content names the model."""
    return {
        path
        for path in manifest(root)["files"]
        if name in path or name in (root / path).read_text(encoding="utf-8")
    }


def retire(path: Path) -> None:
    def change(data: Any) -> None:
        del data["spec"]["deployments"]
        data["spec"]["lifecycle"] = {"stage": "retired", "reason": "no consumers left"}

    edit_yaml(path, change)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform example, compiled once (tests copy it before changing anything)."""
    root = copy_specs(example("platform"), tmp_path_factory.mktemp("lifecycle") / "platform")
    compiled(root)
    return root


def copy_of(platform: Path, destination: Path) -> Path:
    import shutil

    shutil.copytree(platform, destination, ignore=shutil.ignore_patterns("lock", "txn", "cache.json"))
    return destination


# --- retirement --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", PLATFORM_MODELS)
def test_retiring_prunes_everything_of_the_model(platform: Path, tmp_path: Path, model: str) -> None:
    root = copy_of(platform, tmp_path / "platform")
    before = mentioning(root, model)
    before_files = set(manifest(root)["files"])
    own = {p for p in before_files if model in p}
    # the model really had outputs of every kind to lose
    assert any(f"/{model}/inferenceservice-" in p for p in own), own
    assert f".github/workflows/mlgitops-train-{model}.yml" in own
    assert {f"deploy/{env}/kustomization.yaml" for env in ("dev", "staging", "prod")} <= before
    # files of the user's, next to and inside the model's folders
    user_files = {
        f"deploy/dev/{model}/NOTES.md": "kept\n",
        "deploy/dev/extra.yaml": "kind: ConfigMap\n",
        f"docs/{model}.md": f"# {model}\n",
    }
    for path, text in user_files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")

    retire(root / "models" / f"{model}.yaml")
    result = compiled(root)

    # fraud-detector is the only model with a drift check: the settings its environments' checks
    # shared (ConfigMaps, docs/drift.md) have no reader left and go with it
    shared_by_none = {
        f"deploy/{env}/drift-{kind}.yaml"
        for env in ("dev", "staging", "prod")
        for kind in ("settings", "retrain")
        if model == "fraud-detector"
    }
    assert shared_by_none <= before_files
    assert set(result.pruned) == own | shared_by_none, "exactly the model's own files are pruned"
    assert before - own <= set(result.written), "the shared files that named it are rewritten"
    assert mentioning(root, model) == set(), "a generated file still names the retired model"
    for path in own:
        assert not (root / path).exists(), path
    assert manifest(root).get("retired") == [model]
    for path, text in user_files.items():
        assert (root / path).read_text(encoding="utf-8") == text, path
    assert not (root / f"deploy/staging/{model}").exists()  # emptied folders go too
    assert compile_project(root).up_to_date
    from mlgitops.pipeline import check_project

    check = check_project(root)
    assert check.ok and not check.drift


def test_retiring_two_models_and_bringing_one_back(platform: Path, tmp_path: Path) -> None:
    root = copy_of(platform, tmp_path / "platform")
    retire(root / "models" / "churn-model.yaml")
    retire(root / "models" / "support-llm.yaml")
    compiled(root)
    assert manifest(root)["retired"] == ["churn-model", "support-llm"]

    original = (example("platform") / "models" / "support-llm.yaml").read_bytes()
    (root / "models" / "support-llm.yaml").write_bytes(original)
    result = compiled(root)
    assert manifest(root)["retired"] == ["churn-model"]
    isvc = "deploy/prod/support-llm/inferenceservice-support-llm-1-2-0.yaml"
    assert isvc in result.written
    assert (root / isvc).read_bytes() == (platform / isvc).read_bytes()


def test_a_retired_model_must_not_be_deployed(cli: CliRunner, platform: Path, tmp_path: Path) -> None:
    root = copy_of(platform, tmp_path / "platform")
    edit_yaml(
        root / "models" / "churn-model.yaml",
        lambda data: data["spec"]["lifecycle"].update(stage="retired"),
    )
    result = cli("validate", root)
    assert result.exit_code == 1
    assert "MLG311" in result.stdout
    assert "model 'churn-model' is retired but still deployed to dev, staging, prod" in result.stdout


def test_a_retired_model_without_outputs_before_is_still_recorded(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    retire(root / "models" / "churn-model.yaml")
    compiled(root)  # never compiled while active
    assert manifest(root)["retired"] == ["churn-model"]
    assert mentioning(root, "churn-model") == set()


# --- deprecation -------------------------------------------------------------------------------


def documents(root: Path, path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((root / path).read_text(encoding="utf-8")) if isinstance(d, dict)]


def model_objects(root: Path, model: str) -> dict[str, list[dict[str, Any]]]:
    """path → Kubernetes objects of the model's own generated YAML files as they are applied: those
    its directory's kustomization lists as ``kubectl kustomize deploy/<env>`` builds them (with the
    labels and annotations the kustomizations set), the others (the training Job CI submits) as
    written. The kustomization itself is no object."""
    kubectl = require_tool("kubectl")
    built: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}  # environment → (kind, name) → object
    out: dict[str, list[dict[str, Any]]] = {}
    for path in manifest(root)["files"]:
        if f"/{model}/" not in path or not path.endswith(".yaml") or path.startswith("deploy/ci/"):
            continue
        if path.endswith("/kustomization.yaml"):
            continue
        _, env, _, file_name = path.split("/")  # deploy/<env>/<model>/<file>
        kustomization = (root / path).parent / "kustomization.yaml"
        listed = yaml.safe_load(kustomization.read_text(encoding="utf-8"))["resources"]
        objects = documents(root, path)
        if file_name in listed:
            if env not in built:
                built[env] = applied(kubectl, root / "deploy" / env)
            objects = [built[env][(d["kind"], d["metadata"]["name"])] for d in objects]
        out[path] = objects
    return out


def applied(kubectl: str, env_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) → each object ``kubectl kustomize`` builds from an environment's directory."""
    built = kustomize_build(kubectl, env_dir)
    objects = {(d["kind"], d["metadata"]["name"]): d for d in built}
    assert len(objects) == len(built), f"{env_dir}: two objects of one kind and name"
    return objects


SERVING_KINDS = {"InferenceService", "Deployment"}  # the workload of each serving target
COMPONENT = "app.kubernetes.io/component"


def is_serving_or_training(document: dict[str, Any]) -> bool:
    if document["kind"] in SERVING_KINDS:
        return True
    labels = document["metadata"].get("labels", {})
    return document["kind"] in ("Job", "CronJob") and labels.get(COMPONENT) == "training"


def deprecated_copy(source: str, model: str, destination: Path) -> Path:
    root = copy_specs(example(source), destination)
    edit_yaml(
        root / "models" / f"{model}.yaml",
        lambda data: data["spec"].update(lifecycle={"stage": "deprecated", "sunset": "2099-06-30"}),
    )
    compiled(root)
    return root


@pytest.mark.external  # kubectl kustomize
@pytest.mark.parametrize(
    ("example_name", "model", "replacement"),
    [("platform", "support-llm", "fraud-detector"), ("gitlab-flux-k8s", "product-ranker", None)],
)
def test_deprecated_models_are_annotated(
    tmp_path: Path, example_name: str, model: str, replacement: str | None
) -> None:
    root = copy_specs(example(example_name), tmp_path / example_name)

    def deprecate(data: Any) -> None:
        data["spec"]["lifecycle"] = {"stage": "deprecated", "sunset": "2099-06-30", "reason": "superseded"}
        if replacement:
            data["spec"]["lifecycle"]["replacedBy"] = replacement

    edit_yaml(root / "models" / f"{model}.yaml", deprecate)
    compiled(root)
    objects = model_objects(root, model)
    kinds = {d["kind"] for docs in objects.values() for d in docs}
    assert kinds & SERVING_KINDS, kinds
    checked: list[tuple[str, str]] = []
    for path, docs in objects.items():
        for document in docs:
            if not is_serving_or_training(document):
                continue  # the other objects: see test_every_object_of_a_deprecated_model
            annotations = document["metadata"].get("annotations", {})
            assert annotations.get(DEPRECATION) == "true", f"{path} {document['kind']}"
            assert annotations.get(SUNSET) == "2099-06-30", f"{path} {document['kind']}"
            assert annotations.get(REPLACED_BY) == replacement, f"{path} {document['kind']}"
            checked.append((path, document["kind"]))
    environments = len(
        yaml.safe_load((root / "mlgitops.yaml").read_text(encoding="utf-8"))["spec"]["environments"]
    )
    assert len(checked) >= min(environments, 2), checked
    if model == "support-llm":  # trained by a Kubernetes Job
        assert "Job" in {kind for _, kind in checked}
    # an active model carries none of them
    for other in {p.stem for p in (root / "models").glob("*.yaml")} - {model, "churn-model"}:
        for docs in model_objects(root, other).values():
            for document in docs:
                assert DEPRECATION not in document["metadata"].get("annotations", {}), other


@pytest.mark.external  # kubectl kustomize
def test_the_platform_examples_deprecated_model_is_annotated(platform: Path) -> None:
    """churn-model is deprecated in the example itself (sunset 2027-12-31, no replacement named)."""
    isvcs = {
        p: docs for p, docs in model_objects(platform, "churn-model").items() if "/inferenceservice-" in p
    }
    assert len(isvcs) == 3
    for docs in isvcs.values():
        (isvc,) = docs
        annotations = isvc["metadata"]["annotations"]
        assert annotations[DEPRECATION] == "true"
        assert annotations[SUNSET] == "2027-12-31"
        assert REPLACED_BY not in annotations


@pytest.mark.external  # kubectl kustomize
def test_sunset_warnings(cli: CliRunner, tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    edit_yaml(
        root / "models" / "churn-model.yaml",
        lambda data: data["spec"]["lifecycle"].update(sunset="2020-01-31"),
    )
    result = cli("validate", root)
    assert result.exit_code == 0, result.output
    assert "warning[MLG318]: model 'churn-model' was to be gone by 2020-01-31" in result.stdout
    assert "models/churn-model.yaml:" in result.stdout
    assert "retire it, or move the sunset date" in result.stdout

    strict = cli("validate", "--strict", root)
    assert strict.exit_code == 1
    assert "MLG318" in strict.stdout

    as_json = json.loads(cli("validate", "--format", "json", root).stdout)
    found = [d for d in as_json["diagnostics"] if d["code"] == "MLG318"]
    assert len(found) == 1
    assert found[0]["severity"] == "warning"

    # compile still works (a warning), and the objects say when the model goes
    assert cli("compile", root).exit_code == 0
    (isvc,) = model_objects(root, "churn-model")[
        "deploy/prod/churn-model/inferenceservice-churn-model-3-1-0.yaml"
    ]
    annotations = isvc["metadata"]["annotations"]
    assert annotations[SUNSET] == "2020-01-31"


def test_the_sunset_date_is_compared_with_today(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    sunset = datetime.date(2027, 12, 31)  # the example's
    day_before, day_after = sunset - datetime.timedelta(days=1), sunset + datetime.timedelta(days=1)
    codes = {
        day: {d.code for d in validate_project(root, today=day).diagnostics}
        for day in (day_before, sunset, day_after)
    }
    assert "MLG318" not in codes[day_before]
    assert "MLG318" not in codes[sunset]  # gone *by* the date: the date itself is still fine
    assert "MLG318" in codes[day_after]


def test_active_and_retired_models_never_warn_about_a_sunset(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    edit_yaml(
        root / "models" / "churn-model.yaml",
        lambda data: data["spec"]["lifecycle"].update(stage="active", sunset="2020-01-31"),
    )
    assert "MLG318" not in {d.code for d in validate_project(root).diagnostics}


@pytest.mark.external  # kubectl kustomize
@pytest.mark.parametrize(
    ("source", "model"), [("platform", "fraud-detector"), ("gitlab-flux-k8s", "product-ranker")]
)
def test_every_object_of_a_deprecated_model(tmp_path: Path, source: str, model: str) -> None:
    """Every object generated for a deprecated model says so, monitoring included."""
    root = deprecated_copy(source, model, tmp_path / source)
    missing = [
        f"{path} {document['kind']}"
        for path, docs in model_objects(root, model).items()
        for document in docs
        if (document["metadata"].get("annotations") or {}).get(DEPRECATION) != "true"
    ]
    assert missing == []
