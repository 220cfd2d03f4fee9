"""The wheel: it carries schemas/ and templates/, installs into a fresh venv, and runs from anywhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import QUICKSTART, ROOT
from mlgitops import __version__

pytestmark = pytest.mark.slow


def run(args: list[str | Path], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env = {k: v for k, v in env.items() if not k.startswith("MLGITOPS_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: hatchling comes from the dev environment, no second download.
    build = run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT], cwd=out)
    assert build.returncode == 0, build.stdout + build.stderr
    (path,) = out.glob("mlgitops-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel (and its dependencies) installed; returns its bin/."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    pip = run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-input", wheel], cwd=env_dir)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return bin_dir


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name == f"mlgitops-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for required in (
            "mlgitops/__init__.py",
            "mlgitops/__main__.py",
            "mlgitops/cli/__init__.py",
            "mlgitops/load/__init__.py",
            "mlgitops/_data/schemas/model.v1.json",
            "mlgitops/_data/schemas/project.v1.json",
            "mlgitops/_data/schemas/mlgitops.v1.json",
            "mlgitops/_data/templates/README.md",
        ):
            assert required in names, f"{required} is not in the wheel"
        # The shipped schemas are the committed ones, byte for byte.
        for schema in sorted((ROOT / "schemas").glob("*.json")):
            assert archive.read(f"mlgitops/_data/schemas/{schema.name}") == schema.read_bytes()
        # Every template file ships.
        for template in sorted(p for p in (ROOT / "templates").rglob("*") if p.is_file()):
            relative = template.relative_to(ROOT / "templates").as_posix()
            assert f"mlgitops/_data/templates/{relative}" in names
        assert not any(n.startswith(("tests/", "examples/", "src/", "mlgitops/tests/")) for n in names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        dist_info = f"mlgitops-{__version__}.dist-info"
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        assert "mlgitops = mlgitops.cli:main" in entry_points
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        assert "Requires-Python: >=3.11" in metadata
        required_dists = {
            re.sub(r"[-_.]+", "-", m).lower()  # PEP 503 normalized
            for m in re.findall(r"^Requires-Dist: ([\w.-]+)(?!.*extra ==)", metadata, re.MULTILINE)
        }
        assert {"pydantic", "pyyaml", "click", "jinja2"} <= required_dists


def test_installed_console_script_validates_from_another_directory(installed: Path, tmp_path: Path) -> None:
    result = run([installed / "mlgitops", "validate", QUICKSTART.resolve()], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 2 files valid" in result.stdout
    assert result.stderr == ""


def test_installed_reports_errors_and_usage(installed: Path, tmp_path: Path) -> None:
    missing = run([installed / "mlgitops", "validate", tmp_path / "nowhere"], cwd=tmp_path)
    assert missing.returncode == 1
    assert "MLG001" in missing.stdout
    usage = run([installed / "mlgitops", "validate", "--format", "nope"], cwd=tmp_path)
    assert usage.returncode == 2


def test_installed_python_dash_m(installed: Path, tmp_path: Path) -> None:
    result = run([installed / "python", "-m", "mlgitops", "--version"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mlgitops, version {__version__}"


def test_installed_package_is_the_wheel_not_the_source(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, importlib.resources, mlgitops, yaml\n"
        "data = importlib.resources.files('mlgitops') / '_data'\n"
        "print(json.dumps({'file': mlgitops.__file__, 'libyaml': yaml.__with_libyaml__,"
        " 'schema': (data / 'schemas' / 'model.v1.json').read_text(encoding='utf-8'),"
        " 'templates': (data / 'templates').is_dir()}))\n"
    )
    result = run([installed / "python", "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert Path(info["file"]).resolve().is_relative_to(installed.parent.resolve())
    assert info["libyaml"] is True, "PyYAML without libyaml: the C loader is required"
    assert info["schema"] == (ROOT / "schemas" / "model.v1.json").read_text(encoding="utf-8")
    assert info["templates"] is True


def test_installed_schema_command(installed: Path, tmp_path: Path) -> None:
    result = run([installed / "mlgitops", "schema", "--kind", "model"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schemas" / "model.v1.json").read_text(encoding="utf-8")


def test_installed_compile_finds_the_bundled_templates(installed: Path, tmp_path: Path) -> None:
    """compile, run from the wheel, renders with the templates shipped in mlgitops/_data/templates."""
    import shutil

    commands = run([installed / "mlgitops", "--help"], cwd=tmp_path).stdout
    if not re.search(r"^  compile\s", commands, re.MULTILINE):
        pytest.skip("`mlgitops compile` is not in this version yet")
    # Same place in a repository as the committed example, so paths inside the output agree.
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True)
    project = repo / "examples" / "quickstart"
    shutil.copytree(QUICKSTART, project, ignore=shutil.ignore_patterns("deploy", ".mlgitops"))
    result = run([installed / "mlgitops", "compile", project], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    generated = sorted(
        p.relative_to(project).as_posix() for p in (project / "deploy").rglob("*") if p.is_file()
    )
    assert generated, "compile wrote nothing"
    if (QUICKSTART / "deploy").is_dir():
        committed = sorted(
            p.relative_to(QUICKSTART).as_posix() for p in (QUICKSTART / "deploy").rglob("*") if p.is_file()
        )
        assert generated == committed
        for name in generated:
            assert (project / name).read_bytes() == (QUICKSTART / name).read_bytes(), name
