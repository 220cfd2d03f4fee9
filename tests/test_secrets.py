"""Secret-looking literals (mlgitops.validate.secrets, MLG310)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CliRunner
from mlgitops.diagnostics import Diagnostic
from mlgitops.load import SourceDocument, load_text
from mlgitops.validate.secrets import _ANY_SHAPE, _holds_shape, find_secrets

ROOT = Path(__file__).resolve().parent.parent


def _doc(text: str) -> SourceDocument:
    doc, problems = load_text(text.encode(), Path("spec.yaml"), "spec.yaml")
    assert doc is not None, problems
    return doc


def _secrets(text: str) -> list[Diagnostic]:
    return find_secrets(_doc(text))


# (what the message says, a literal of that shape)
SHAPES = [
    ("an AWS access key", "AKIAIOSFODNN7EXAMPLE"),
    ("an AWS access key", "ASIAY34FZKBOKMUTVV7A"),
    ("a GitHub token", "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"),
    ("a GitHub token", "gho_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("a GitHub token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ("a GitLab token", "glpat-abcdefghij0123456789"),
    ("a Slack token", "xoxb-123456789012-abcdefghijkl"),
    ("a Google API key", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("an API secret key", "sk-proj-AbCdEf0123456789GhIjKlMn"),
    ("an API secret key", "sk_live_51HqABCdefGHIjklMNOpqr"),
    ("an API secret key", "sk-ant-api03-AbCdEfGh0123456789IjKl"),
    ("a Hugging Face token", "hf_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("a private key", "-----BEGIN RSA PRIVATE KEY-----"),
    (
        "a private key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ),
    (
        "a JSON web token",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("a password inside a URL", "postgres://admin:s3cr3t@db.acme.test:5432/app"),
    ("a password inside a URL", "https://user:pa55@mlflow.acme.test"),
    ("a password inside a URL", "redis://:sup3rs3cret@cache.acme.test:6379/0"),
    ("a password in a connection string", "Server=db.acme.test;Database=app;User Id=app;Password=hunter2;"),
    ("a password in a connection string", "Driver={ODBC Driver 18};Server=dw;UID=app;PWD=Tr0ub4dor"),
    ("a password in a connection string", "jdbc:sqlserver://db.acme.test;user=app;password='s3cret'"),
    ("a password in a connection string", "host=db port=5432 dbname=app password = hunter2"),
    (
        "a storage account key",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0",
    ),
]


@pytest.mark.parametrize(("what", "literal"), SHAPES, ids=[f"{w} {i}" for i, (w, _) in enumerate(SHAPES)])
def test_every_shape_is_found_in_any_field(what: str, literal: str) -> None:
    import json

    quoted = json.dumps(literal)  # a YAML double-quoted scalar
    text = f"spec:\n  training:\n    args: [--x, {quoted}]\n  description: {quoted}\n"
    found = _secrets(text)
    assert [(d.code, d.location.line if d.location else 0) for d in found] == [("MLG310", 3), ("MLG310", 4)]
    for diagnostic in found:
        assert diagnostic.message == f"this value looks like {what}; secrets must not be written in specs"
        assert literal not in diagnostic.message  # never repeat the secret
        assert diagnostic.hint and "fromSecret" in diagnostic.hint and "fromCiSecret" in diagnostic.hint


def test_shape_embedded_in_a_longer_value() -> None:
    (found,) = _secrets("args: ['--token=ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ']\n")
    assert found.location is not None
    assert (found.location.line, found.location.column) == (1, 8)


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "PASSWORD",
        "passwd",
        "SMTP_PASSPHRASE",
        "CLIENT_SECRET",
        "clientSecret",
        "HF_TOKEN",
        "GITHUB_TOKEN",
        "API_KEY",
        "apiKey",
        "OPENAI_APIKEY",
        "AWS_SECRET_ACCESS_KEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "GCP_CREDENTIALS",
        "mlflowTrackingPassword",
    ],
)
def test_literal_values_of_secret_named_variables(name: str) -> None:
    (found,) = _secrets(f"spec:\n  serving:\n    env:\n      {name}: hunter2\n")
    assert found.message == (
        f"this value looks like a secret (the key {name!r} names one); secrets must not be written in specs"
    )
    assert found.location is not None
    assert (found.location.line, found.location.column) == (4, len(name) + 9)


def test_secret_named_params_and_transformer_env() -> None:
    text = "training:\n  params:\n    api_key: abc123\nserving:\n  transformer:\n    env:\n      TOKEN: abc\n"
    assert [d.location.line for d in _secrets(text) if d.location] == [3, 7]


ORDINARY = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: fraud-detector
  owner: risk-team
  description: Detects card fraud with a token-bucket rate limiter and secret-sauce features.
  labels: {team: risk, tier: critical}
spec:
  data:
    - name: transactions
      uri: "s3://acme-data/transactions/2026/"
    - name: merchants
      uri: "gs://acme-data/merchants/"
    - name: hub
      uri: "hf://datasets/acme/merchants"
  training:
    image: ghcr.io/acme/fraud-train:1.8.0
    command: [python, -m, fraud.train, --tokenizer, bert-base-uncased]
    params:
      max_tokens: 512
      pad_token: "[PAD]"
      eos_token: "</s>"
      tokenizer: bert-base-uncased
      secret_sauce: 3
      use_auth_token: true
    env:
      TOKENIZERS_PARALLELISM: "false"
      API_TOKEN_FILE: /var/run/secrets/api-token
      PASSWORD_PATH: /etc/app/password
      SECRET_NAME: fraud-db
      AWS_ACCESS_KEY_ID_ENV: AWS_ACCESS_KEY_ID
      KEYCLOAK_TOKEN_ENDPOINT: https://sso.acme.test/token
      DB_PASSWORD: {fromSecret: {name: fraud-db, key: password}}
      HF_TOKEN: {fromCiSecret: MY_TOKEN}
      GITHUB_TOKEN: {fromCiSecret: GITHUB_TOKEN}
      EMPTY_SECRET: ""
    schedule: "0 3 * * 1"
  serving:
    runtime: sklearn
    image: "registry.acme.test:5000/serving/sklearn-server@sha256:DIGEST"
    artifact: "s3://acme-models/{model}/{version}/"
    annotations:
      vault.hashicorp.com/agent-inject-secret-db: database/creds/fraud
      acme.test/repo: "git@github.com:acme/fraud.git"
    args: ["--model-uri=mlflow://models/fraud-detector/Production", "--skip-keys=sk-learn-classic"]
    serviceAccount: fraud-reader
  deployments:
    prod: {version: "2026-11-01"}
  monitoring:
    drift: {schedule: "*/15 * * * *", features: [amount], threshold: 0.2}
    alerts: {route: risk-oncall, runbookUrl: "https://runbooks.acme.test/fraud?section=secrets"}
""".replace("DIGEST", "0123456789abcdef" * 4)


def test_no_false_positives_on_an_ordinary_spec() -> None:
    assert _secrets(ORDINARY) == []


@pytest.mark.parametrize(
    "value",
    [
        "s3://acme-models/fraud/{version}/",
        "ghcr.io/acme/fraud-train:1.8.0",
        "nvcr.io/nvidia/tritonserver:24.01-py3",
        "0 3 * * 1",
        "*/5 * * * *",
        "ssh://git@github.com/acme/ml.git",
        "https://mlflow.acme.test:5000/api",
        "sk-classifier-production-model",
        "risk-model-2026",
        "the-quick-brown-fox-jumps-over-the-lazy-dog-again",
        "AKIA-not-a-key",
        "eyJ-not-a-jwt",
        "https://files.acme.test/raw/iris.csv",
        "https://user@files.acme.test/raw/",
        "${DATABASE_URL}",
        "postgres://app:${DB_PASSWORD}@db.acme.test/app",
        "postgres://app:$(DB_PASSWORD)@db.acme.test/app",
        "https://ci:{{ secrets.MLFLOW_PASSWORD }}@mlflow.acme.test",
        "Server=db.acme.test;Password=${DB_PASSWORD};",
        "Server=db.acme.test;Password='$(DB_PASSWORD)'",
        "Server=db.acme.test;Password=;",
        "--password-file=/run/secrets/db",
        "PASSWORD_PATH=/etc/app/password",
    ],
)
def test_ordinary_values_are_not_secrets(value: str) -> None:
    assert _secrets(f"spec:\n  description: {value!r}\n  serving: {{env: {{VALUE: {value!r}}}}}\n") == []


def test_examples_have_no_secrets() -> None:
    for spec in sorted((ROOT / "examples").glob("*/**/*.yaml")):
        doc, problems = load_text(spec.read_bytes(), spec, spec.name)
        assert doc is not None, problems
        assert find_secrets(doc) == [], spec


def test_the_hint_names_a_form_the_field_accepts() -> None:
    """Only env maps take {fromSecret}/{fromCiSecret}; training.params (a scalar map) rejects it."""
    text = (
        "spec:\n"
        "  training:\n"
        "    params: {db_password: hunter2}\n"
        "    env: {DB: 'Server=x;Password=hunter2;'}\n"
        "    args: ['--db=postgres://app:hunter2@db/x']\n"
        "  data: [{name: raw, uri: 'https://app:hunter2@files.acme.test/raw/'}]\n"
    )
    hints = {d.location.line: d.hint for d in _secrets(text) if d.location}
    assert hints[3] is not None and hints[3].startswith("training.params take no secret references")
    assert "move it to training.env as {fromSecret:" in hints[3]
    assert (
        hints[4]
        == "reference it instead: {fromSecret: {name: <secret>, key: <key>}} or {fromCiSecret: <NAME>}"
    )
    assert hints[5] is not None and hints[5].startswith("args take no secret references")
    assert hints[6] is not None and hints[6].startswith("this field takes no secret reference")


def test_validate_reports_connection_string_passwords_without_repeating_them(cli: CliRunner) -> None:
    case = ROOT / "tests" / "cases" / "invalid" / "secrets-in-connection-strings"
    result = cli("validate", case)
    assert result.exit_code == 1
    assert result.output.count("error[MLG310]") == 7
    assert "training.params take no secret references" in result.output
    for secret in ("hunter2", "Tr0ub4dor", "sup3rs3cret", "l0ad3r", "toor@"):
        # the caret display quotes the source line, so the secret's line is shown; never the message
        assert all(secret not in line for line in result.output.splitlines() if "MLG310" in line)


# The pieces of every shape, mixed with letters the case-insensitive part folds ("ſ", the Kelvin
# sign, "ß") and the separators around them, so that matches and near misses are common.
_PIECE_TEXTS = (
    *("AKIA", "ASIA", "gh", "github_pat", "glpat", "xox", "AIza", "sk", "rk", "hf", "eyJ"),
    *("PRIVATE KEY", "://", "user", ":", "@", "/", "pw@", "s://app:hunter2@"),
    *("AccountKey=", "ACCOUNT\u212aEY="),
    *("PaSsWoRd", "paſſwd=", "pwd=", "PWD \t=", "\u212a", "ß", "_", "-", "=", " ", "\t", "\n"),
    *("a", "p", "o", "u", "s", "r", "b", "0"),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"),
    *("sk-", "sk_", "rk-", "rk_", "hf_", "glpat-", "github_pat_", "PRIVATE KEY"),
)
_PIECES = st.sampled_from(_PIECE_TEXTS)


# What every secret shape starts with (or, for URLs, holds), spelt as one alternation.
_STARTS = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|AIza|[sr]k[-_]|hf_|PRIVATE KEY|eyJ"
    r"|://[^/\s:@]*:[^/\s@]+@|(?i:accountkey=|(?:passwd|password|pwd)[ \t]*=)"
)


@settings(max_examples=500)
@given(st.lists(_PIECES, max_size=8).map("".join))
def test_the_quick_shape_test_agrees_with_the_regex(text: str) -> None:
    """find_secrets asks `_holds_shape` whether a file could hold a shape at all, a piece of
    the regex at a time; it answers exactly as the whole alternation would, only faster."""
    expected = _STARTS.search(text) is not None
    assert _holds_shape(text) == expected
    assert (_ANY_SHAPE.search(text) is not None) == expected


def test_the_quick_shape_test_agrees_with_the_regex_on_every_pair_of_pieces() -> None:
    for first in _PIECE_TEXTS:
        for second in _PIECE_TEXTS:
            text = first + second
            assert _holds_shape(text) == (_STARTS.search(text) is not None), text
