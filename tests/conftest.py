"""Shared fixtures and helpers for the whole test suite.

External validators (actionlint, promtool, the SARIF schema, ...) are installed
into ``.tools/`` by ``make tools``; :func:`require_tool` and
:func:`require_file` *fail* (never skip) when one is missing, so a green run
always means every validator really ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
QUICKSTART = EXAMPLES / "quickstart"
SCHEMAS = ROOT / "schemas"
TOOLS = ROOT / ".tools"
TOOLS_BIN = TOOLS / "bin"
SARIF_SCHEMA = TOOLS / "node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"
VENV_BIN = Path(sys.executable).parent

# Tools installed by `make tools` win over anything else on PATH, also for
# subprocesses started by tests (as under `make test`, which sets the same PATH).
os.environ["PATH"] = os.pathsep.join([str(TOOLS_BIN), str(VENV_BIN), os.environ.get("PATH", "")])

# Colour is chosen by the environment (cli/output.py): a runner's own NO_COLOR or FORCE_COLOR
# must not change what the tests see; the colour tests set them explicitly.
for _variable in ("NO_COLOR", "FORCE_COLOR"):
    os.environ.pop(_variable, None)

# Hypothesis: no per-example deadline (CI machines are slow and shared); in CI
# a fixed seed, so that a red run can be reproduced and a green one is stable.
settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def require_tool(name: str) -> str:
    """Absolute path of an external tool; fails the test (not skips) when it is missing."""
    found = shutil.which(name, path=os.pathsep.join([str(TOOLS_BIN), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed: run `make tools` (scripts/install-tools.sh)", pytrace=False)
    return found


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists; fails the test (not skips) when it does not."""
    if not path.is_file():
        pytest.fail(f"{what} not found at {path}: run `make tools`", pytrace=False)
    return path


@pytest.fixture(scope="session")
def sarif_validator() -> Any:
    """A validator of the SARIF 2.1.0 schema installed by `make tools`."""
    from jsonschema.validators import validator_for

    path = require_file(SARIF_SCHEMA, "the SARIF 2.1.0 JSON schema (from @microsoft/jest-sarif)")
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid_sarif(validator: Any, text: str) -> dict[str, Any]:
    """The SARIF log in ``text``, failing with every schema error if it is not valid."""
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    return log  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``mlgitops ARGS`` in-process through the real top-level handler.

    ``cli("validate", "examples/quickstart", cwd=ROOT)`` returns the exit code
    and the captured stdout and stderr, exactly as the console script would.
    """
    from mlgitops.cli import run

    def invoke(*args: str | Path, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = run([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


def mlgitops_exe() -> str:
    """The ``mlgitops`` console script of the environment running the tests."""
    exe = shutil.which("mlgitops", path=str(VENV_BIN))
    if exe is None:
        pytest.fail(f"no mlgitops console script in {VENV_BIN}: run `make install`", pytrace=False)
    return exe


def run_mlgitops(
    args: Sequence[str | Path], *, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real console script in a subprocess (no stdin, captured output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGITOPS_")}
    return subprocess.run(
        [mlgitops_exe(), *map(str, args)],
        cwd=cwd or ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def quickstart() -> Path:
    """The bundled quickstart example (read-only: copy it before changing anything)."""
    return QUICKSTART


@pytest.fixture
def project_copy(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Copy an example project into a temporary directory and return the copy's root."""

    def copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    yield copy
