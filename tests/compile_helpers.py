"""Helpers shared by the compile, check and emit tests (issue 3).

Everything here works on copies of the examples in temporary directories that
are *not* inside a git repository, so that the repository-relative paths in
GitOps objects are the same wherever the copy lives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from mlgitops_drift.settings import with_arguments

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(path.parent for path in EXAMPLES_DIR.glob("*/mlgitops.yaml"))
EXAMPLE_IDS = [path.name for path in EXAMPLES]
TARGET_SCHEMAS = ROOT / "tests" / "target-schemas"
SCRATCH = (
    ".mlgitops/lock",
    ".mlgitops/.gitignore",
    ".mlgitops/cache.json",
    ".mlgitops/render-cache.json",
)  # machine-local, never output

Tree = dict[str, bytes]
# A git identity and no user or system configuration: the tests' git runs alike everywhere.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "mlgitops tests",
    "GIT_AUTHOR_EMAIL": "tests@mlgitops.invalid",
    "GIT_COMMITTER_NAME": "mlgitops tests",
    "GIT_COMMITTER_EMAIL": "tests@mlgitops.invalid",
}
# The smallest valid project file: one environment, an MLflow registry.
MINIMAL_PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata:
  name: demo
spec:
  repository: https://github.com/acme/ml.git
  registry:
    kind: mlflow
    trackingUri: https://mlflow.acme.test
  environments:
    - name: dev
      namespace: ml-dev
"""
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def generated_project(destination: Path, models: int) -> Path:
    """The benchmark project (``benchmarks/generate.py``: every feature) with ``models`` models."""
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), str(models), str(destination)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return destination


def minimal_project(root: Path, model: str | bytes) -> Path:
    """A project of MINIMAL_PROJECT and one model file, ``models/iris.yaml``, holding ``model``."""
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(MINIMAL_PROJECT, encoding="utf-8")
    target = root / "models" / "iris.yaml"
    if isinstance(model, bytes):
        target.write_bytes(model)
    else:
        target.write_text(model, encoding="utf-8")
    return root


def example(name: str) -> Path:
    path = EXAMPLES_DIR / name
    assert (path / "mlgitops.yaml").is_file(), f"no example named {name!r}"
    return path


def copy_specs(source: Path, destination: Path) -> Path:
    """Copy only the inputs of a project (mlgitops.yaml and models/), without compiled output."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "mlgitops.yaml", destination / "mlgitops.yaml")
    shutil.copytree(source / "models", destination / "models")
    return destination


def as_subproject(root: Path) -> Path:
    """Drop the example's ``spec.repositoryRoot: .``: the copy at ``root`` sits in a subdirectory of a
    larger repository, so its paths in CI files and GitOps objects are relative to that repository."""
    project_file = root / "mlgitops.yaml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(re.sub(r"(?m)^  repositoryRoot: .*\n", "", text), encoding="utf-8")
    return root


def copy_project(source: Path, destination: Path) -> Path:
    """Copy a whole example, committed output included (but no lock or transaction scratch)."""
    shutil.copytree(
        source, destination, ignore=shutil.ignore_patterns("lock", "txn", "cache.json", "render-cache.json")
    )
    return destination


def assert_not_in_git(path: Path) -> None:
    for candidate in (path, *path.parents):
        assert not (candidate / ".git").exists(), f"{path} is inside the git repository {candidate}"


def tree(root: Path, *, scratch: bool = False) -> Tree:
    """Every file under ``root`` (relative POSIX path → bytes); lock and .gitignore only if ``scratch``."""
    out: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(root).as_posix()
            if scratch or relative not in SCRATCH:
                out[relative] = path.read_bytes()
    return out


def tree_with_mtimes(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file with its bytes and mtime (ns), scratch files included; directories by mtime too."""
    out: dict[str, tuple[bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file():
            out[relative] = (path.read_bytes(), path.stat().st_mtime_ns)
        elif path.is_dir():
            out[relative + "/"] = (b"", 0)
    return out


def generated(root: Path) -> Tree:
    """The generated files of a compiled project: everything listed in its manifest, and the manifest."""
    manifest = json.loads((root / ".mlgitops/manifest.json").read_bytes())
    files = {path: (root / path).read_bytes() for path in manifest["files"]}
    files[".mlgitops/manifest.json"] = (root / ".mlgitops/manifest.json").read_bytes()
    return files


def describe_difference(before: Tree, after: Tree) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])

    def shown(paths: list[str]) -> str:
        return f"{paths[:8]}" + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")

    return f"added {shown(added)}, removed {shown(removed)}, changed {shown(changed)}"


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Load a spec file, let ``change`` edit the data in place, write it back (comments are lost)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    change(data)
    path.write_text(yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")


def retire_model(path: Path) -> None:
    """Retire the model of the spec at ``path`` (its deployments go): how a model is taken down;
    deleting a deployed model's file is refused (MLG517)."""

    def retire(data: Any) -> None:
        data["spec"].pop("deployments", None)
        data["spec"]["lifecycle"] = {"stage": "retired"}

    edit_yaml(path, retire)


def yaml_documents(root: Path, under: str = "deploy") -> Iterator[tuple[str, Any]]:
    """(relative path, parsed object) for every YAML document under ``root/under`` (Kubernetes
    objects: the training fingerprints under ``<output>/ci/``, read by CI, are left out)."""
    for path in sorted((root / under).rglob("*.yaml")):
        if path.relative_to(root / under).parts[0] == "ci":
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            yield path.relative_to(root).as_posix(), document


def environments(root: Path) -> list[tuple[str, str]]:
    """(name, namespace) of each environment of the project at ``root``."""
    data = yaml.safe_load((root / "mlgitops.yaml").read_text(encoding="utf-8"))
    return [(env["name"], env["namespace"]) for env in data["spec"]["environments"]]


def run_module(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m mlgitops ARGS`` in a subprocess, without any MLGITOPS_* variable of ours leaking in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLGITOPS_")}
    return subprocess.run(
        [sys.executable, "-m", "mlgitops", *args],
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def compile_clean(root: Path) -> Path:
    """Compile ``root`` (outside any git repository) in full and fail, listing them, on diagnostics."""
    from mlgitops.pipeline import compile_project

    assert_not_in_git(root)
    result = compile_project(root, use_cache=False)
    shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.ok, f"{root.name} does not compile:\n{shown}"
    return root


class GoYamlLoader(yaml.SafeLoader):
    """Reads kustomize's output as Go's YAML does: kustomize writes a string of digits too long
    for an int64 plain (``0777…`` ten thousand digits long), which go-yaml reads back as the
    string it is, and PyYAML alone as an int."""


def _go_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_yaml_int(node)
    return value if -(2**63) <= value < 2**63 else node.value


GoYamlLoader.add_constructor("tag:yaml.org,2002:int", _go_int)


def kustomize_build(kubectl: str, directory: Path) -> list[Any]:
    """The documents ``kubectl kustomize`` builds from ``directory``, read as Go's YAML reads
    them (:class:`GoYamlLoader`); fails if it cannot."""
    run = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, f"kubectl kustomize {directory} failed:\n{run.stderr}"
    return [d for d in yaml.load_all(run.stdout, Loader=GoYamlLoader) if d is not None]


def kustomization_labels(env_dir: Path) -> dict[str, str]:
    """The labels an environment's ``kustomization.yaml`` sets on every object it lists (its
    objects' own files leave them out)."""
    kustomization = yaml.safe_load((env_dir / "kustomization.yaml").read_text(encoding="utf-8"))
    return {key: value for entry in kustomization.get("labels", ()) for key, value in entry["pairs"].items()}


def container_environment(env_dir: Path, namespace: str, container: Any) -> dict[str, Any]:
    """A drift-check container's settings as the checker reads them: each ``envFrom`` ConfigMap's
    data (the ConfigMaps compiled into ``env_dir``, the environment's directory; a missing one
    fails, as the pod would not start), then ``env`` over them (a ``valueFrom`` stays its
    reference), then each ``--name=value`` argument in its variable's place, as the kubelet
    passes it."""
    config_maps = {
        document["metadata"]["name"]: document["data"]
        for path in sorted(env_dir.glob("*.yaml"))
        for document in [yaml.safe_load(path.read_text(encoding="utf-8"))]
        if document.get("kind") == "ConfigMap" and document["metadata"]["namespace"] == namespace
    }
    variables: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"unexpected envFrom source {source}"
        variables.update(config_maps[source["configMapRef"]["name"]])
    for item in container.get("env", []):
        variables[item["name"]] = item.get("value", item.get("valueFrom"))
    given = {}
    for arg in container.get("args", []):
        # the kubelet expands $(VAR) in args and reads $$ as $: every $ must come escaped
        assert "$" not in arg.replace("$$", ""), f"{arg!r} would expand a variable"
        name, value = arg.removeprefix("--").split("=", 1)
        given[name] = value.replace("$$", "$")
    return with_arguments(variables, given)


def promtool_tests_failing(promtool: str, files: list[Path]) -> list[str]:
    """``promtool test rules`` on each file (in its directory, which its rule files are relative
    to), side by side: promtool is single-threaded. The failures' output, none when all pass."""
    from concurrent.futures import ThreadPoolExecutor

    def run(path: Path) -> str | None:
        done = subprocess.run(
            [promtool, "test", "rules", path.name],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=1800,  # an environment's suite: minutes on a loaded 2-core machine
            check=False,
        )
        return None if done.returncode == 0 else f"{path}:\n{done.stdout[-4000:]}{done.stderr[-1000:]}"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return [failure for failure in pool.map(run, files) if failure is not None]
