"""examples/quickstart through its whole lifecycle, with real servers on 127.0.0.1.

1. Training pipeline: the compiled GitHub workflow's own step scripts (tests/e2e/workflow.py)
   train and evaluate the quickstart's scikit-learn model (examples/quickstart/src/iris),
   apply ``mlgitops gate``, upload the model to a ``file://`` store and register it in a real
   MLflow tracking server (SQLite backend), whose REST API then shows the version, its alias
   and its tags; the promotion job's script runs ``mlgitops promote`` and ``compile``, and
   ``mlgitops check`` finds the tree up to date.
2. Drift: the drift checker (mlgitops-drift, configured by the generated CronJob's
   environment) scores a shifted copy of the data, pushes to a real Pushgateway scraped by a
   real Prometheus loaded with the generated rule file, and calls the retraining API (a
   local receiver standing in for GitHub); the drift alert fires in Prometheus.

The servers come from `make tools` (Debian's prometheus and prometheus-pushgateway, and
.tools/mlflow-venv); a missing one fails the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import container_environment
from conftest import QUICKSTART, TOOLS, VENV_BIN, require_file, require_tool, run_mlgitops
from e2e.servers import HOST, free_port, http_json, running, wait_for
from e2e.workflow import LocalRunner

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MODEL = "iris-classifier"
# The quickstart declares `repositoryRoot: .`: it is meant to be a repository of its own.
PROJECT = Path()
E2E_VENV_BIN = TOOLS / "mlflow-venv" / "bin"
ALIAS = "champion"
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
# A live window whose petals grew: these two features drift, the sepals do not.
SHIFT = {"petal_length": 2.5, "petal_width": 1.0}

# What the test adds to the quickstart: its registry is the local MLflow server, a version that
# passes its gates gets an alias, and the model has a drift check that may start retraining.
REGISTRY_OVERLAY = f"  registry: {{alias: {ALIAS}}}\n"
DRIFT_OVERLAY = """\
    drift:
      features: [sepal_length, sepal_width, petal_length, petal_width]
      method: psi
      threshold: 0.2
      reference: iris
      current: "s3://acme-inference-logs/{model}/{environment}/{date}/"
      retrain: true
      retrainToken: {name: mlgitops-retrain, key: token}
"""


def e2e_python() -> Path:
    return require_file(E2E_VENV_BIN / "python", "the e2e virtualenv (.tools/mlflow-venv)")


def scratch_repository(root: Path, tracking_uri: str) -> Path:
    """A git repository holding a copy of the quickstart with the test's overlay, compiled."""
    repo = root / "repo"
    project = repo / PROJECT
    shutil.copytree(QUICKSTART, project, ignore=shutil.ignore_patterns("__pycache__"))
    settings = project / "mlgitops.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "trackingUri: https://mlflow.acme.internal" in text
    text = text.replace("https://mlflow.acme.internal", tracking_uri)
    # Plain rule files, which a Prometheus without the operator loads (and this test does).
    assert "\n  registry:\n" in text
    text = text.replace("\n  registry:\n", "\n  prometheus: {format: files}\n  registry:\n", 1)
    settings.write_text(text, encoding="utf-8")
    spec = project / "models" / f"{MODEL}.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "\n  serving:\n" in text and "\n    alerts:\n" in text
    text = text.replace("\n  serving:\n", "\n" + REGISTRY_OVERLAY + "  serving:\n", 1)
    text = text.replace("\n    alerts:\n", "\n" + DRIFT_OVERLAY + "    alerts:\n", 1)
    spec.write_text(text, encoding="utf-8")
    git = require_tool("git")
    # A repository first: the workflows name the project's path inside it.
    subprocess.run(
        [git, "init", "--quiet", "--initial-branch=main"], cwd=repo, check=True, capture_output=True
    )
    compiled = run_mlgitops(["compile", project])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    for argv in (
        ["add", "--all"],
        [
            "-c",
            "user.name=e2e",
            "-c",
            "user.email=e2e@example.invalid",
            "commit",
            "--quiet",
            "-m",
            "quickstart",
        ],
    ):
        subprocess.run([git, *argv], cwd=repo, check=True, capture_output=True)
    return repo


def head_commit(repo: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def step_environment(repo: Path) -> dict[str, str]:
    """The runner's environment: the e2e venv stands in for the training image, mlgitops is the checkout's."""
    return {
        "PATH": os.pathsep.join([str(E2E_VENV_BIN), str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "CI": "true",
        # The training image would have the quickstart's package installed.
        # (and a PYTHONPATH pointing at the mlgitops sources under test stays).
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(repo / PROJECT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "PYTHONDONTWRITEBYTECODE": "1",
        "GITHUB_SHA": head_commit(repo),
    }


@contextmanager
def serving_directory(root: Path) -> Iterator[str]:
    """``root`` served read-only over HTTP on 127.0.0.1 until the block ends; yields its URL."""
    handler = functools.partial(QuietFiles, directory=str(root))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def mlflow_get(api: str, path: str, **query: str) -> Any:
    return http_json(f"{api}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}")


def test_training_pipeline_registers_and_promotes(tmp_path: Path) -> None:
    mlflow = require_file(E2E_VENV_BIN / "mlflow", "the MLflow server (.tools/mlflow-venv/bin/mlflow)")
    e2e_python()
    port = free_port()
    api = f"http://{HOST}:{port}"
    repo = scratch_repository(tmp_path, api)
    store = tmp_path / "model-store"
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    server = [
        mlflow, "server", "--host", HOST, "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--default-artifact-root", (tmp_path / "mlflow-artifacts").as_uri(),
    ]  # fmt: skip

    def model_location(script: str) -> str:
        # The upload writes to a file:// store (KServe cannot fetch file://, so the spec's artifact
        # stays s3://). MLflow refuses a local path as a version's source unless it lies in a
        # run's artifacts, so the register step names the same store as served over HTTP.
        if "model-versions/create" in script:
            return f"{store_url}/{MODEL}/{{version}}/"
        return (store / MODEL).as_uri() + "/{version}/"

    store.mkdir()
    with (
        serving_directory(store) as store_url,
        running(
            "mlflow server",
            server,
            f"{api}/health",
            tmp_path / "mlflow.log",
            timeout=180,
            # Lets a version's source be the store's http:// URL (see model_location).
            env={"MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES": "http"},
        ),
    ):
        runner = LocalRunner(
            repo=repo,
            temp=runner_temp,
            base_env=step_environment(repo),
            github={"run_number": "7", "sha": head_commit(repo), "token": "unused", "actor": "mlgitops-e2e"},
            overrides=lambda script: {"ARTIFACT_TEMPLATE": model_location(script)},
        )
        workflow = repo / PROJECT / ".github" / "workflows" / f"mlgitops-train-{MODEL}.yml"
        outputs = runner.run_workflow(workflow, {"version": ""})
        version = outputs["train"]["version"]
        assert version.endswith(".7"), outputs

        ran = [(run.job, run.name) for run in runner.log]
        for job in ("train", "evaluate", "gate", "register", "promote"):
            assert any(j == job for j, _ in ran), f"job {job} ran no step: {ran}"
        gate_output = "\n".join(run.output for run in runner.log if run.job == "gate")
        assert "accuracy" in gate_output, gate_output

        uploaded = store / MODEL / version
        assert (uploaded / "model.joblib").is_file(), sorted(store.rglob("*"))
        training = json.loads((uploaded / "training.json").read_text(encoding="utf-8"))
        assert training["params"] == {"n_estimators": 100, "max_depth": 4}

        found = mlflow_get(api, "registered-models/alias", name=MODEL, alias=ALIAS)["model_version"]
        assert found["version"] == "1"
        assert found["source"] == f"{store_url}/{MODEL}/{version}/"
        with urllib.request.urlopen(found["source"] + "model.joblib", timeout=10) as response:
            assert response.read() == (uploaded / "model.joblib").read_bytes()
        assert found["description"] == f"mlgitops {version}"
        tags = {tag["key"]: tag["value"] for tag in found.get("tags", [])}
        assert tags == {
            "mlgitops.version": version,
            "mlgitops.data.iris_uri": "s3://acme-data/iris/",
            "mlgitops.data.iris_version": "2026-11-01",
            "mlgitops.git.commit": head_commit(repo),
        }
        model = mlflow_get(api, "registered-models/get", name=MODEL)["registered_model"]
        assert {a["alias"]: a["version"] for a in model["aliases"]} == {ALIAS: "1"}

    # The promotion job's script edited the spec and compiled; the tree is up to date.
    project = repo / PROJECT
    promotion = json.loads((runner_temp / "promotion.json").read_text(encoding="utf-8"))
    assert promotion["branch"], promotion
    spec = yaml.safe_load((project / "models" / f"{MODEL}.yaml").read_text(encoding="utf-8"))
    assert spec["spec"]["deployments"]["dev"]["version"] == version
    service = (project / "deploy" / "dev" / MODEL / "inferenceservice.yaml").read_text(encoding="utf-8")
    assert f"s3://acme-models/{MODEL}/{version}/" in service
    checked = run_mlgitops(["check", project])
    assert checked.returncode == 0, checked.stdout + checked.stderr


@dataclass
class RetrainReceiver:
    """Stands in for the GitHub API: records every request and answers 204."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def retrain_receiver() -> Iterator[tuple[str, RetrainReceiver]]:
    receiver = RetrainReceiver()
    server = http.server.ThreadingHTTPServer((HOST, 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}", receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def write_iris_csv(path: Path, shift: dict[str, float]) -> None:
    """The iris measurements scikit-learn ships, with ``shift`` added to some columns."""
    program = "import json, sklearn.datasets as d; print(json.dumps(d.load_iris().data.tolist()))"
    done = subprocess.run(
        [str(e2e_python()), "-c", program], check=True, capture_output=True, text=True, timeout=120
    )
    rows = json.loads(done.stdout)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(FEATURES)
        for row in rows:
            writer.writerow([value + shift.get(name, 0.0) for name, value in zip(FEATURES, row, strict=True)])


def drift_job(repo: Path, environment: str) -> tuple[list[str], dict[str, str]]:
    """The drift CronJob's container arguments and environment, as compiled: the environment's
    shared ConfigMaps (envFrom) and the container's own variables (secret references left out)."""
    env_dir = repo / PROJECT / "deploy" / environment
    cronjob = yaml.safe_load((env_dir / MODEL / "drift-cronjob.yaml").read_text(encoding="utf-8"))
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    variables = container_environment(env_dir, cronjob["metadata"]["namespace"], {**container, "args": []})
    return container["args"], {name: value for name, value in variables.items() if isinstance(value, str)}


def prometheus_config(path: Path, pushgateway: str, rules: list[Path]) -> None:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(r) for r in rules],
        # honor_labels keeps the pushed model/environment labels (docs/drift.md).
        "scrape_configs": [
            {"job_name": "pushgateway", "honor_labels": True, "static_configs": [{"targets": [pushgateway]}]}
        ],
    }
    path.write_text(json.dumps(config), encoding="utf-8")


def firing(prometheus: str, alert: str) -> list[dict[str, str]]:
    alerts = http_json(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
    return sorted(
        (a["labels"] for a in alerts if a["labels"].get("alertname") == alert and a["state"] == "firing"),
        key=lambda labels: labels.get("feature", ""),
    )


def test_drift_fires_the_alert_and_starts_retraining(
    tmp_path: Path, retrain_receiver: tuple[str, RetrainReceiver]
) -> None:
    prometheus_bin = require_tool("prometheus")
    pushgateway_bin = require_tool("prometheus-pushgateway")
    drift_bin = require_file(VENV_BIN / "mlgitops-drift", "the drift checker (make install)")
    repo = scratch_repository(tmp_path, "https://mlflow.acme.internal")
    environment = "dev"
    args, env = drift_job(repo, environment)
    # the environment's shared rules: SLIs, metadata and every alert of the model (drift included)
    rules = sorted((repo / PROJECT / "deploy" / "prometheus" / environment).glob("*.rules.yml"))
    assert repo / PROJECT / "deploy" / "prometheus" / environment / "_slo.rules.yml" in rules

    reference = tmp_path / "data" / "reference" / "iris.csv"
    write_iris_csv(reference, {})
    # The live window the check reads: the spec's URI template, on local disk.
    current_template = (tmp_path / "live").as_uri() + "/{model}/{environment}/{date}/"
    current = tmp_path / "live" / MODEL / environment
    receiver_url, receiver = retrain_receiver

    push_port, prom_port = free_port(), free_port()
    pushgateway = f"http://{HOST}:{push_port}"
    prometheus = f"http://{HOST}:{prom_port}"
    config = tmp_path / "prometheus.yml"
    prometheus_config(config, f"{HOST}:{push_port}", rules)
    # Debian's build persists to /var/lib/prometheus/pushgateway.data by default: one run's pushed
    # retraining time would put the next run within the cooldown. Each run gets its own file.
    push_argv = [
        pushgateway_bin,
        f"--web.listen-address={HOST}:{push_port}",
        f"--persistence.file={tmp_path / 'pushgateway.data'}",
    ]
    prom_argv = [
        prometheus_bin, f"--config.file={config}", f"--web.listen-address={HOST}:{prom_port}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
    ]  # fmt: skip
    with (
        running("prometheus-pushgateway", push_argv, f"{pushgateway}/-/ready", tmp_path / "pushgateway.log"),
        running("prometheus", prom_argv, f"{prometheus}/-/ready", tmp_path / "prometheus.log"),
    ):
        today = dt.datetime.now(dt.UTC).date().isoformat()
        write_iris_csv(current / today / "inputs.csv", SHIFT)
        check_env = {
            **env,
            "PATH": os.environ["PATH"],
            "MLGITOPS_PUSHGATEWAY_URL": pushgateway,
            "MLGITOPS_RETRAIN_URL": receiver_url + "/repos/acme/ml-quickstart/dispatches",
            "MLGITOPS_RETRAIN_TOKEN": "test-token",
        }
        # The data on local disk, in the compiled arguments' place (an argument wins over a variable).
        local = {"--reference": str(reference.parent) + "/", "--current": current_template}
        args = [arg for arg in args if arg.split("=", 1)[0] not in local]
        args += [f"{name}={value}" for name, value in local.items()]
        done = subprocess.run(
            [str(drift_bin), *args], env=check_env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "petal_length" in done.stdout and "DRIFT" in done.stdout, done.stdout

        assert len(receiver.requests) == 1, done.stdout + done.stderr
        (request,) = receiver.requests
        assert request["path"] == "/repos/acme/ml-quickstart/dispatches"
        assert request["headers"]["Authorization"] == "Bearer test-token"
        assert request["body"]["event_type"] == f"mlgitops-retrain-{MODEL}"

        fired = wait_for(
            "the ModelFeatureDrift alert to fire",
            lambda: firing(prometheus, "ModelFeatureDrift"),
            timeout=60,
        )
        assert [labels["feature"] for labels in fired] == ["petal_length", "petal_width"]
        assert all(labels["model"] == MODEL and labels["environment"] == environment for labels in fired)
        assert firing(prometheus, "ModelDriftCheckFailed") == []
