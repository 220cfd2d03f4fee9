"""The CI step that trains in the cluster ends with the Job: success when it completes, failure
(with its logs) as soon as it fails, failure at the deadline when it does neither.

The step's script is taken from the platform example's committed reusable training workflow
(``support-llm`` trains with ``runner: kubernetes``) and run by ``sh`` against a stub ``kubectl`` that plays
the API server: ``create`` names the Job, ``get`` reports its true conditions from a file
the test writes, ``logs`` prints a line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from compile_helpers import ROOT

WORKFLOW = ROOT / "examples/platform/.github/workflows/mlgitops-reusable-train.yml"
STUB = """#!/bin/sh
case "$*" in
  *create*) cat >/dev/null; echo "${STUB_CREATED:-job.batch/support-llm-train-x7k2p}" ;;
  *" get "*|get*)
    echo "$*" >> "$STUB_CONDITIONS.gets"
    # The first $STUB_GET_FAILURES reads fail, as an API server blip would.
    echo x >> "$STUB_CONDITIONS.reads"
    if [ "$(wc -l < "$STUB_CONDITIONS.reads")" -le "${STUB_GET_FAILURES:-0}" ]; then
      echo "Unable to connect to the server" >&2; exit 1
    fi
    cat "$STUB_CONDITIONS" ;;
  *logs*) echo "logs of: $*" >> "$STUB_CONDITIONS.logs"; echo "Traceback: CUDA out of memory" ;;
esac
"""


# `date +%s`: the step starts at 1,000,000 s and each later reading is ten minutes on.
CLOCK = """#!/bin/sh
echo x >> "$STUB_CONDITIONS.clock"
echo $(( 1000000 + 600 * ($(wc -l < "$STUB_CONDITIONS.clock") - 1) ))
"""


def cluster_step() -> dict[str, object]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = [
        s
        for job in workflow["jobs"].values()
        for s in job.get("steps", [])
        if s.get("name") == "Train in the cluster"
    ]
    assert len(steps) == 1
    return steps[0]


def run_step(
    tmp_path: Path,
    conditions: str,
    timeout_minutes: str = "720",
    get_failures: int = 0,
    created: str = "job.batch/support-llm-train-x7k2p",
) -> subprocess.CompletedProcess[str]:
    step = cluster_step()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"kubectl": STUB, "sleep": "#!/bin/sh\nexit 0\n", "date": CLOCK}.items():
        (bin_dir / name).write_text(body, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "conditions").write_text(conditions, encoding="utf-8")
    (tmp_path / "jobs/support-llm").mkdir(parents=True)
    (tmp_path / "jobs/support-llm/training-job.yaml").write_text("kind: Job\n", encoding="utf-8")
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "KUBECONFIG_DATA": "apiVersion: v1",
        "MLGITOPS_VERSION": "1.2.3",
        "JOB_DIRECTORY": str(tmp_path / "jobs"),
        "MLGITOPS_MODEL": "support-llm",
        "JOB_NAMESPACE": "ml-dev",
        "TIMEOUT_MINUTES": timeout_minutes,
        "STUB_CONDITIONS": str(tmp_path / "conditions"),
        "STUB_GET_FAILURES": str(get_failures),
        "STUB_CREATED": created,
    }
    needed = {"JOB_DIRECTORY", "MLGITOPS_MODEL", "JOB_NAMESPACE", "TIMEOUT_MINUTES", "MLGITOPS_VERSION"}
    assert set(step["env"]) >= needed
    return subprocess.run(
        ["sh", "-c", str(step["run"])], env=env, capture_output=True, text=True, timeout=20, check=False
    )


def test_a_completed_job_passes_the_step(tmp_path: Path) -> None:
    result = run_step(tmp_path, "Complete ")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("conditions", ["Failed ", "FailureTarget Failed "])
def test_a_failed_job_fails_the_step_at_once_with_its_logs(tmp_path: Path, conditions: str) -> None:
    result = run_step(tmp_path, conditions)
    assert result.returncode == 1
    assert "CUDA out of memory" in result.stderr
    assert "job.batch/support-llm-train-x7k2p failed" in result.stderr


def test_a_job_still_running_after_the_limit_and_its_grace_fails_the_step(tmp_path: Path) -> None:
    # No true condition ever; a 20-minute limit plus 5 minutes' grace has passed at the third
    # reading of the clock (ten minutes apart), and not at the second.
    result = run_step(tmp_path, "", timeout_minutes="20")
    assert result.returncode == 1
    assert "did not finish within 20 minutes" in result.stderr
    assert "CUDA out of memory" in result.stderr  # its logs, to see where it stood
    assert (tmp_path / "conditions.reads").read_text(encoding="utf-8").count("x") == 3


def test_a_few_failed_reads_are_retried(tmp_path: Path) -> None:
    result = run_step(tmp_path, "Complete ", get_failures=3)
    assert result.returncode == 0, result.stderr


def test_a_cluster_that_stays_unreachable_fails_the_step(tmp_path: Path) -> None:
    result = run_step(tmp_path, "Complete ", get_failures=100)
    assert result.returncode == 1
    assert (
        "cannot read job.batch/support-llm-train-x7k2p from the cluster (10 attempts in a row)"
        in result.stderr
    )


# training.distributed: each kind's outcome, as the API server reports it for the jsonpath the
# step asks for (true conditions, or a RayJob's job and deployment status), and where its logs are.
TRAINJOB = "trainjob.trainer.kubeflow.org/support-llm-training-q8x2v"
PYTORCHJOB = "pytorchjob.kubeflow.org/support-llm-training-q8x2v"
RAYJOB = "rayjob.ray.io/support-llm-training-q8x2v"
LOGS = {
    TRAINJOB: "--selector=jobset.sigs.k8s.io/jobset-name=support-llm-training-q8x2v",
    PYTORCHJOB: "--selector=training.kubeflow.org/job-name=support-llm-training-q8x2v",
    RAYJOB: "job.batch/support-llm-training-q8x2v",
}


@pytest.mark.parametrize(
    ("created", "status"),
    [(TRAINJOB, "Created Complete "), (PYTORCHJOB, "Created Succeeded "), (RAYJOB, "SUCCEEDED Complete ")],
)
def test_a_distributed_run_that_succeeds_passes_the_step(tmp_path: Path, created: str, status: str) -> None:
    result = run_step(tmp_path, status, created=created)
    assert result.returncode == 0, result.stderr
    gets = (tmp_path / "conditions.gets").read_text(encoding="utf-8")
    if created == RAYJOB:
        assert "{.status.jobStatus} {.status.jobDeploymentStatus}" in gets
    else:
        assert '.status.conditions[?(@.status=="True")]' in gets


@pytest.mark.parametrize(
    ("created", "status"),
    [
        (TRAINJOB, "Created Failed "),
        (PYTORCHJOB, "Created Restarting Failed "),
        (RAYJOB, "FAILED Complete "),  # the RayJob is done ("Complete"), its Ray job failed
        (RAYJOB, "STOPPED Complete "),
        (RAYJOB, " Failed "),  # the Ray cluster never ran the job
    ],
)
def test_a_distributed_run_that_fails_fails_the_step_with_its_pods_logs(
    tmp_path: Path, created: str, status: str
) -> None:
    result = run_step(tmp_path, status, created=created)
    assert result.returncode == 1
    assert f"training job {created} failed" in result.stderr
    assert "CUDA out of memory" in result.stderr
    assert LOGS[created] in (tmp_path / "conditions.logs").read_text(encoding="utf-8")


@pytest.mark.parametrize("status", ["RUNNING Running ", "PENDING Initializing ", " "])
def test_a_ray_job_still_running_is_waited_for(tmp_path: Path, status: str) -> None:
    result = run_step(tmp_path, status, timeout_minutes="20", created=RAYJOB)
    assert result.returncode == 1
    assert "did not finish within 20 minutes" in result.stderr
