"""The console script end to end against a recording HTTP server: payload, cooldown, bad inputs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from mlgitops_drift import cli, pushgateway, retrain
from mlgitops_drift.pushgateway import Sample

from .conftest import FakeServer

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC).timestamp()
GROUP = "/metrics/job/mlgitops-drift/model/iris/environment/prod"


def write_data(root: Path, shift: float = 0.0, rows: int = 200) -> None:
    rng = np.random.default_rng(7)
    reference = pa.table({"width": rng.normal(0, 1, rows), "colour": ["red", "blue"] * (rows // 2)})
    pq.write_table(reference, root / "reference.parquet")
    day = root / "inputs" / "2026-05-04"
    day.mkdir(parents=True)
    current = pa.table({"width": rng.normal(shift, 1, rows), "colour": ["red", "blue"] * (rows // 2)})
    pacsv.write_csv(current, day / "part-0.csv")


def contract(root: Path, server: FakeServer, **extra: str) -> dict[str, str]:
    return {
        "MLGITOPS_MODEL": "iris",
        "MLGITOPS_ENVIRONMENT": "prod",
        "MLGITOPS_FEATURES": "width,colour",
        "MLGITOPS_DRIFT_METHOD": "psi",
        "MLGITOPS_DRIFT_THRESHOLD": "0.2",
        "MLGITOPS_DRIFT_METRIC": "mlgitops_feature_drift",
        "MLGITOPS_REFERENCE_URI": str(root / "reference.parquet"),
        "MLGITOPS_CURRENT_URI": f"file://{root}/inputs/{{date}}/",
        "MLGITOPS_LIVE_WINDOW_SECONDS": "3600",
        "MLGITOPS_PUSHGATEWAY_URL": server.url,
        **extra,
    }


def test_exposition_text_is_exact() -> None:
    labels = (("model", 'a"b'), ("environment", "prod"))
    text = pushgateway.exposition(
        [Sample("mlgitops_feature_drift", (*labels, ("feature", "x")), 0.5), Sample("m", labels, 3.0)],
        {"mlgitops_feature_drift": "Drift."},
    )
    assert text == (
        "# HELP mlgitops_feature_drift Drift.\n"
        "# TYPE mlgitops_feature_drift gauge\n"
        'mlgitops_feature_drift{model="a\\"b",environment="prod",feature="x"} 0.5\n'
        "# HELP m m\n# TYPE m gauge\n"
        'm{model="a\\"b",environment="prod"} 3.0\n'
    )


def test_a_stable_run_replaces_the_group_with_scores_and_timestamps(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_data(tmp_path)
    assert cli.main(["--now", str(NOW)], contract(tmp_path, fake_server)) == 0
    (body,) = fake_server.bodies("PUT", GROUP)
    lines = body.splitlines()
    assert f'mlgitops_drift_last_run_timestamp_seconds{{model="iris",environment="prod"}} {NOW!r}' in lines
    assert (
        f'mlgitops_drift_last_success_timestamp_seconds{{model="iris",environment="prod"}} {NOW!r}' in lines
    )
    assert 'mlgitops_drift_last_run_success{model="iris",environment="prod"} 1.0' in lines
    scored = [line for line in lines if line.startswith("mlgitops_feature_drift{")]
    assert [line.split("feature=")[1].split(",")[0] for line in scored] == ['"width"', '"colour"']
    assert all(float(line.rsplit(" ", 1)[1]) < 0.2 for line in scored)
    assert "retrain" not in body
    assert "psi width" in capsys.readouterr().out


def test_drift_triggers_github_retraining_once_per_cooldown(tmp_path: Path, fake_server: FakeServer) -> None:
    write_data(tmp_path, shift=3.0)
    env = contract(
        tmp_path,
        fake_server,
        MLGITOPS_RETRAIN_PROVIDER="github",
        MLGITOPS_RETRAIN_URL=f"{fake_server.url}/repos/acme/ml/dispatches",
        MLGITOPS_RETRAIN_TOKEN="s3cret",
        MLGITOPS_RETRAIN_EVENT="mlgitops-retrain-iris",
        MLGITOPS_RETRAIN_COOLDOWN_SECONDS="86400",
    )
    assert cli.main(["--now", str(NOW)], env) == 0
    (dispatch,) = [r for r in fake_server.requests if r.path == "/repos/acme/ml/dispatches"]
    assert dispatch.headers["Authorization"] == "Bearer s3cret"
    assert json.loads(dispatch.body) == {
        "event_type": "mlgitops-retrain-iris",
        "client_payload": {"environment": "prod", "features": ["width"]},
    }
    (body,) = fake_server.bodies("PUT", GROUP)
    assert (
        f'mlgitops_drift_retrain_triggered_timestamp_seconds{{model="iris",environment="prod"}} {NOW!r}'
        in body
    )

    # The Pushgateway now remembers the trigger: an hour later, still drifting, no second dispatch.
    fake_server.group_state = [
        {
            "labels": {"job": "mlgitops-drift", "model": "iris", "environment": "prod"},
            pushgateway.RETRAIN_TRIGGERED: {"metrics": [{"labels": {}, "value": repr(NOW)}]},
        }
    ]
    assert cli.main(["--now", str(NOW + 3600)], env) == 0
    assert len([r for r in fake_server.requests if "dispatches" in r.path]) == 1
    assert (
        f'{pushgateway.RETRAIN_TRIGGERED}{{model="iris",environment="prod"}} {NOW!r}'
        in (fake_server.bodies("PUT", GROUP)[-1])
    )
    # A day later (with that day's inputs) the cooldown is over.
    shutil.copytree(tmp_path / "inputs" / "2026-05-04", tmp_path / "inputs" / "2026-05-05")
    assert cli.main(["--now", str(NOW + 86400)], env) == 0
    assert len([r for r in fake_server.requests if "dispatches" in r.path]) == 2


def test_cooldown_boundaries() -> None:
    assert retrain.cooldown_over(None, 100.0, 60)
    assert not retrain.cooldown_over(50.0, 100.0, 60)
    assert retrain.cooldown_over(40.0, 100.0, 60)


def test_gitlab_trigger_is_a_form_post() -> None:
    settings = retrain.RetrainSettings(
        "gitlab", "https://gitlab.example/api/v4/projects/a%2Fb/trigger/pipeline", "tok", 86400, ref="main"
    )
    request = retrain.build_request(settings, "iris", "prod", ["width"])
    assert request.data == b"token=tok&ref=main&variables%5BMLGITOPS_TRAIN%5D=iris"


def _assert_failed_run(fake_server: FakeServer) -> None:
    assert not fake_server.bodies("PUT")
    (body,) = fake_server.bodies("POST", GROUP)
    assert 'mlgitops_drift_last_run_success{model="iris",environment="prod"} 0.0' in body
    assert f'mlgitops_drift_last_run_timestamp_seconds{{model="iris",environment="prod"}} {NOW!r}' in body
    assert "last_success" not in body  # the last success stays as it was


def test_missing_feature_column_fails_the_run(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_data(tmp_path)
    env = contract(tmp_path, fake_server, MLGITOPS_FEATURES="width,petal_length")
    assert cli.main(["--now", str(NOW)], env) == 1
    assert "has no column petal_length" in capsys.readouterr().err
    _assert_failed_run(fake_server)


def test_empty_window_fails_the_run(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_data(tmp_path)
    later = NOW + 3 * 86400  # no partition for that day
    assert cli.main(["--now", str(later)], contract(tmp_path, fake_server)) == 1
    assert "the current window is empty: no rows at file://" in capsys.readouterr().err
    assert fake_server.bodies("POST", GROUP)


def test_header_only_window_is_empty(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_data(tmp_path)
    (tmp_path / "inputs" / "2026-05-04" / "part-0.csv").write_text("width,colour\n")
    assert cli.main(["--now", str(NOW)], contract(tmp_path, fake_server)) == 1
    assert "the current window is empty" in capsys.readouterr().err
    _assert_failed_run(fake_server)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nosuchscheme://bucket/ref.parquet", "cannot open nosuchscheme://bucket/ref.parquet"),
        ("{root}/broken.parquet", "cannot read"),
        ("{root}/reference.txt", "is neither Parquet (.parquet) nor CSV (.csv)"),
    ],
)
def test_unreadable_reference_fails_the_run(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str], uri: str, message: str
) -> None:
    write_data(tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "reference.txt").write_text("width\n1\n")
    env = contract(tmp_path, fake_server, MLGITOPS_REFERENCE_URI=uri.format(root=tmp_path))
    assert cli.main(["--now", str(NOW)], env) == 1
    assert message in capsys.readouterr().err
    _assert_failed_run(fake_server)


def test_missing_variable_is_a_usage_error_and_still_reported(
    tmp_path: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env = contract(tmp_path, fake_server)
    del env["MLGITOPS_CURRENT_URI"]
    assert cli.main(["--now", str(NOW)], env) == 2
    assert "MLGITOPS_CURRENT_URI is not set" in capsys.readouterr().err
    _assert_failed_run(fake_server)


def test_refused_push_fails_the_run(tmp_path: Path, fake_server: FakeServer) -> None:
    write_data(tmp_path)
    fake_server.status = 500
    assert cli.main(["--now", str(NOW)], contract(tmp_path, fake_server)) == 1


def test_window_spanning_days_reads_each_day() -> None:
    now = dt.datetime(2026, 5, 4, 1, 0, tzinfo=dt.UTC)
    from mlgitops_drift.data import window_uris

    assert window_uris("s3://b/{model}/{date}/", now, 2 * 3600, "iris", "prod") == [
        "s3://b/iris/2026-05-03/",
        "s3://b/iris/2026-05-04/",
    ]


def test_the_models_settings_as_arguments_win_over_the_variables(
    tmp_path: Path, fake_server: FakeServer
) -> None:
    """The generated CronJob passes the model's own settings as ``--name=value`` arguments and the
    environment's shared ones as variables; an argument takes its variable's place."""
    write_data(tmp_path)
    env = contract(tmp_path, fake_server, MLGITOPS_MODEL="other", MLGITOPS_DRIFT_THRESHOLD="not a number")
    del env["MLGITOPS_FEATURES"]
    args = ["--model=iris", "--features=width", "--threshold=0.2", "--method=ks"]
    assert cli.main(["--now", str(NOW), *args], env) == 0
    (body,) = fake_server.bodies("PUT", GROUP)
    scored = [line for line in body.splitlines() if line.startswith("mlgitops_feature_drift{")]
    assert scored and all('feature="width",method="ks"' in line for line in scored), body
