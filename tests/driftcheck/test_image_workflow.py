"""The drift image's release workflow passes the linters generated workflows pass, and the
Dockerfile refuses a base that is not pinned by digest.  (Docker is not available to the test
suite here: the image itself is built and smoke-tested read-only by the workflow.)"""

from __future__ import annotations

import subprocess

import pytest

from conftest import ROOT, require_tool

WORKFLOW = ".github/workflows/drift-image.yml"


@pytest.mark.external
def test_actionlint_accepts_the_drift_image_workflow() -> None:
    run = subprocess.run(
        [require_tool("actionlint"), "-no-color", WORKFLOW],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.external
def test_zizmor_finds_nothing_in_the_drift_image_workflow() -> None:
    args = [require_tool("zizmor"), "--offline", "--no-ignores", "--no-progress", "--color=never", WORKFLOW]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


def test_dockerfile_runs_non_root_from_a_digest_pinned_base() -> None:
    text = (ROOT / "drift" / "Dockerfile").read_text()
    assert "ARG PYTHON_BASE\n" in text  # no default tag to float on
    assert "*@sha256:*) ;;" in text
    assert "USER 1000:1000" in text
    assert 'ENTRYPOINT ["mlgitops-drift"]' in text


def test_console_script_is_installed_and_reports_its_version() -> None:
    run = subprocess.run(["mlgitops-drift", "--version"], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("mlgitops-drift ")
