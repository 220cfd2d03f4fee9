"""The generated CI pipelines, run: train → evaluate → gate → upload (per artifact store, with
its cloud login) → register → promotion pull request, on GitHub and GitLab, with the step
scripts extracted from the compiled files and fake CLIs recording their arguments
(tests/ci_stub_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from ci_stub_runner import GitHubRun, GitLabRun, Stub, gitlab_child, gitlab_config, load
from compile_helpers import GIT_ENV

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = {
    "s3": ("s3://acme-models", "s3://acme-models/{model}/{version}/"),
    "gs": ("gs://acme-models", "gs://acme-models/{model}/{version}/"),
    "az": ("az://models", "az://models/{model}/{version}/"),
    "abfss": (
        "abfss://models@acmeml.dfs.core.windows.net",
        "abfss://models@acmeml.dfs.core.windows.net/{model}/{version}/",
    ),
    "oci": ("oci://registry.acme.test/models", "oci://registry.acme.test/models/{model}:{version}"),
    "hf": ("hf://acme", "hf://acme/{model}/{version}"),
}
GITLAB_SCHEMES = [s for s in ARTIFACTS if s != "oci"]  # no ORAS on GitLab: MLG350
TRAIN = """\
set -eu
mkdir -p "$MLGITOPS_OUTPUT_DIR"
printf 'weights of %s for %s\\n' "$MLGITOPS_VERSION" "$MLGITOPS_MODEL_URI" > "$MLGITOPS_OUTPUT_DIR/model.bin"
printf '{"accuracy": %s}' "$ACCURACY" > "$MLGITOPS_OUTPUT_DIR/metrics.json"
"""
VERSION = "7.0.1"


def _project(root: Path, system: str, kind: str, accuracy: str = "0.95") -> Path:
    base, artifact = ARTIFACTS[kind]
    token = (
        "    github:\n      token: {app: {idVar: PROMOTER_APP_ID, keySecret: PROMOTER_APP_KEY}}\n"
        if system == "github"
        else "    gitlab:\n      tokenVar: ML_BOT_TOKEN\n"
    )
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(
        f"""\
apiVersion: mlgitops/v1
kind: Project
metadata:
  name: stores
spec:
  repository: https://github.com/acme/ml.git
  repositoryRoot: .
  ci:
    system: {system}
    cloud:
      aws: {{roleArn: "arn:aws:iam::123456789012:role/uploader", region: eu-west-1}}
      gcp:
        workloadIdentityProvider: projects/42/locations/global/workloadIdentityPools/ci/providers/repo
        serviceAccount: uploader@acme-ml.iam.gserviceaccount.com
      azure:
        clientIdVar: AZ_CLIENT
        tenantIdVar: AZ_TENANT
        subscriptionIdVar: AZ_SUBSCRIPTION
        storageAccountVar: AZ_ACCOUNT
{token}    tests:
      - {{name: unit, image: "python:3.12.8-slim", command: [sh, test.sh, --fast], paths: [src/]}}
  serving: kubernetes
  registry:
    kind: artifact
    uri: {base}
    credentials: {{fromCiSecret: STORE_CREDENTIALS}}
  environments:
    - name: dev
      namespace: ml-dev
    - name: prod
      namespace: ml-prod
      approval: required
""",
        encoding="utf-8",
    )
    (root / "models" / "iris.yaml").write_text(
        f"""\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: iris
  owner: data-science
spec:
  registry:
    artifactUri: "{artifact}"
  training:
    image: ghcr.io/acme/iris-train:1.0.0
    command: [sh, train.sh]
    env: {{ACCURACY: "{accuracy}"}}
  evaluation:
    gates:
      - {{metric: accuracy, min: 0.9}}
  serving:
    runtime: custom
    image: ghcr.io/acme/iris-serve:1.0.0
    artifact: "{artifact}"
  deployments:
    dev: {{version: 1.0.0}}
""",
        encoding="utf-8",
    )
    (root / "train.sh").write_text(TRAIN, encoding="utf-8")
    (root / "test.sh").write_text("printf '%s\\n' \"$@\" > tests-ran\n", encoding="utf-8")
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT / "src")}
    compiled = subprocess.run(
        [sys.executable, "-m", "mlgitops", "compile"],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "init"],
    ):
        subprocess.run(command, cwd=root, env=env, check=True)
    return root


def _promoted(stub: Stub) -> None:
    """The promotion commit edits the model's spec to the trained version, on its own branch."""
    env = {**os.environ, **GIT_ENV}
    shown = subprocess.run(
        ["git", "show", "--format=%s", "HEAD:models/iris.yaml"],
        check=True,
        cwd=stub.workspace,
        env=env,
        capture_output=True,
    )
    assert f"version: {VERSION}" in shown.stdout.decode()
    pushes = [c["args"] for c in stub.calls("git") if c["args"][:1] == ["push"]]
    assert len(pushes) == 1, pushes


def _assert_upload(stub: Stub, kind: str, secret: str, account: str) -> None:
    if kind == "s3":
        (call,) = stub.calls("aws")
        assert call["args"] == [
            "s3", "cp", "--recursive", "--only-show-errors", "mlgitops-model", f"s3://acme-models/iris/{VERSION}/"
        ]  # fmt: skip
        credentials = Path(call["env"]["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
        assert credentials.strip() == secret
    elif kind == "gs":
        (call,) = stub.calls("gcloud")
        assert call["args"] == [
            "storage",
            "cp",
            "--recursive",
            "mlgitops-model/*",
            f"gs://acme-models/iris/{VERSION}/",
        ]
    elif kind in ("az", "abfss"):
        upload = [c for c in stub.calls("az") if c["args"][:2] == ["storage", "blob"]]
        assert len(upload) == 1
        args = upload[0]["args"]
        expected_account = account if kind == "az" else "acmeml"
        assert args[args.index("--account-name") + 1] == expected_account
        assert args[args.index("--destination") + 1] == "models"
        assert args[args.index("--destination-path") + 1] == f"iris/{VERSION}"
        assert args[args.index("--sas-token") + 1] == secret
    elif kind == "oci":
        login, push = stub.calls("oras")
        assert login["args"][0] == "login" and login["args"][-1] == "registry.acme.test"
        assert push["args"] == ["push", f"registry.acme.test/models/iris:{VERSION}", "."]
        assert push["cwd"].endswith("mlgitops-model")
    elif kind == "hf":
        (call,) = stub.calls("huggingface_hub")
        assert (call["repo_id"], call["path_in_repo"], call["token"]) == ("acme/iris", VERSION, secret)
        assert call["files"] == ["metrics.json", "model.bin"]
        assert call["commit_message"] == f"mlgitops {VERSION}"


@pytest.mark.parametrize("kind", list(ARTIFACTS))
def test_github_pipeline_runs(tmp_path: Path, kind: str) -> None:
    workspace = _project(tmp_path / "repo", "github", kind)
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")
    workflow = load(workspace / ".github/workflows/mlgitops-train-iris.yml")
    run = GitHubRun(
        stub,
        {
            "inputs.version": VERSION,
            "github.run_number": "7",
            "github.token": "workflow-token",
            "github.actor": "octocat",
        },
    )
    run.workflow(workflow)  # the model's caller runs the reusable pipeline, which calls promote

    assert sorted({what.split("/")[0] for what in stub.ran}) == sorted(
        ["version", "train", "evaluate", "gate", "register", "promote"]
    )
    _assert_upload(stub, kind, "secrets-STORE_CREDENTIALS", "vars-AZ_ACCOUNT")
    logins = {login["action"]: login for login in run.logins}
    expected = {
        "s3": "aws-actions/configure-aws-credentials",
        "gs": "google-github-actions/auth",
        "az": "azure/login",
        "abfss": "azure/login",
        "oci": "oras-project/setup-oras",
        "hf": None,
    }[kind]
    assert set(logins) - {"actions/create-github-app-token", "actions/upload-artifact"} == (
        {expected} if expected else set()
    )
    if kind == "s3":
        assert logins[expected]["role-to-assume"] == "arn:aws:iam::123456789012:role/uploader"
    if kind in ("az", "abfss"):
        assert logins[expected]["client-id"] == "vars-AZ_CLIENT"
    assert ("id-token" in workflow["jobs"]["train"].get("permissions", {})) == (
        kind in ("s3", "gs", "az", "abfss")
    )  # a caller grants what the called jobs ask for
    register = load(workspace / ".github/workflows/mlgitops-reusable-train.yml")["jobs"]["register"]
    assert ("id-token" in register.get("permissions", {})) == (kind in ("s3", "gs", "az", "abfss"))
    _promoted(stub)
    (pr,) = [c for c in stub.calls("gh") if c["args"][:2] == ["pr", "create"]]
    assert pr["env"]["GH_TOKEN"] == "app-token-for-vars-PROMOTER_APP_ID"
    assert pr["args"][pr["args"].index("--base") + 1] == "main"
    body = Path(pr["args"][pr["args"].index("--body-file") + 1]).read_text()
    assert "### Evaluation" in body
    assert "| accuracy | 0.95 | >= 0.9 | pass |" in body
    assert "### What the promotion changes" in body and VERSION in body.split("### What the promotion")[1]


@pytest.mark.parametrize("kind", GITLAB_SCHEMES)
def test_gitlab_pipeline_runs(tmp_path: Path, kind: str) -> None:
    workspace = _project(tmp_path / "repo", "gitlab", kind)
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")
    root = gitlab_config(workspace, ".gitlab-ci.yml")
    assert root["train-iris"]["trigger"]["forward"] == {"yaml_variables": False, "pipeline_variables": True}
    config = gitlab_child(workspace, root, "train-iris")  # the model's child pipeline
    run = GitLabRun(
        stub,
        config,
        {
            "CI_PIPELINE_SOURCE": "web",
            "MLGITOPS_TRAIN": "iris",
            "MLGITOPS_TRAIN_VERSION": VERSION,
            "CI_PIPELINE_IID": "7",
            "CI_PIPELINE_ID": "1007",
            "CI_SERVER_HOST": "gitlab.example",
            "CI_PROJECT_PATH": "acme/ml",
            "CI_DEFAULT_BRANCH": "main",
            "STORE_CREDENTIALS": "store-secret",
            "ML_BOT_TOKEN": "bot-token",
            "AZ_CLIENT": "client-1",
            "AZ_TENANT": "tenant-1",
            "AZ_SUBSCRIPTION": "subscription-1",
            "AZ_ACCOUNT": "acmeaccount",
        },
    )
    for job in ("train", "evaluate", "gate", "register", "propose"):
        run.job(job)

    _assert_upload(stub, kind, "store-secret", "acmeaccount")
    register = config["register"]
    if kind == "s3":
        assert register["id_tokens"] == {"MLGITOPS_AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}
        (call,) = stub.calls("aws")
        assert call["env"]["AWS_ROLE_ARN"] == "arn:aws:iam::123456789012:role/uploader"
        token_file = Path(call["env"]["AWS_WEB_IDENTITY_TOKEN_FILE"])
        assert token_file.read_text() == "id-token-MLGITOPS_AWS_ID_TOKEN"
    if kind == "gs":
        (call,) = stub.calls("gcloud")
        config_file = json.loads(Path(call["env"]["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"]).read_text())
        provider = "projects/42/locations/global/workloadIdentityPools/ci/providers/repo"
        assert config_file["audience"] == "//iam.googleapis.com/" + provider
        assert "uploader@acme-ml.iam.gserviceaccount.com" in config_file["service_account_impersonation_url"]
    if kind in ("az", "abfss"):
        (login,) = [c for c in stub.calls("az") if c["args"][:1] == ["login"]]
        args = login["args"]
        assert args[args.index("--username") + 1] == "client-1"
        assert args[args.index("--tenant") + 1] == "tenant-1"
        assert args[args.index("--federated-token") + 1] == "id-token-MLGITOPS_AZURE_ID_TOKEN"
    if kind == "hf":
        assert "id_tokens" not in register
    _promoted(stub)
    (push,) = [c["args"] for c in stub.calls("git") if c["args"][:1] == ["push"]]
    assert push[1] == "https://oauth2:bot-token@gitlab.example/acme/ml.git"
    assert "merge_request.create" in push


def test_a_failed_gate_stops_the_pipeline(tmp_path: Path) -> None:
    """The gate step is real: a metric under its bound fails it, so nothing is uploaded."""
    workspace = _project(tmp_path / "repo", "github", "s3", accuracy="0.5")
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")
    workflow = load(workspace / ".github/workflows/mlgitops-train-iris.yml")
    run = GitHubRun(stub, {"inputs.version": VERSION, "github.run_number": "7"})
    with pytest.raises(AssertionError, match="gate/Apply the gates in the spec failed"):
        run.workflow(workflow)
    assert {what.split("/")[0] for what in stub.ran} == {"version", "train", "evaluate", "gate"}
    assert stub.calls("aws") == []


def _plan_run(tmp_path: Path, stdout: str) -> tuple[Stub, GitHubRun]:
    """The validate workflow of a pull request that moves iris to 7.0.1 in dev."""
    workspace = _project(tmp_path / "repo", "github", "s3")
    env = {**os.environ, **GIT_ENV}
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], check=True, cwd=workspace, env=env, capture_output=True, text=True
    )
    subprocess.run(
        ["git", "update-ref", "refs/remotes/origin/main", base.stdout.strip()], cwd=workspace, check=True
    )
    model = workspace / "models" / "iris.yaml"
    model.write_text(model.read_text().replace("version: 1.0.0", f"version: {VERSION}"))
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")
    subprocess.run(
        ["mlgitops", "compile"], cwd=workspace, env={**env, **stub.env}, check=True, capture_output=True
    )
    subprocess.run(["git", "commit", "-qam", "promote"], cwd=workspace, env=env, check=True)
    stub.env.update({"GITHUB_BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
    run = GitHubRun(
        stub,
        {
            "github.token": "workflow-token",
            "github.repository": "acme/ml",
            "github.event.pull_request.number": "12",
        },
    )
    workflow = load(workspace / ".github/workflows/mlgitops-validate.yml")
    run.job(workflow, "plan")
    stub.env["STUB_STDOUT"] = stdout
    run.job(workflow, "comment")
    return stub, run


def _rollback_pull_request(tmp_path: Path, system: str) -> tuple[Stub, Path, str]:
    """A pull request that puts prod (approval required) on 1.5.0, which prod never served: older
    than dev's version, so only the spec's git history up to the merge base can tell (MLG306)."""
    workspace = _project(tmp_path / "repo", system, "s3")
    env = {**os.environ, **GIT_ENV}
    model = workspace / "models" / "iris.yaml"
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")

    def commit(old: str, new: str) -> str:
        model.write_text(model.read_text().replace(old, new))
        subprocess.run(["mlgitops", "compile"], cwd=workspace, env={**env, **stub.env}, check=True)
        subprocess.run(["git", "commit", "-qam", new], cwd=workspace, env=env, check=True)
        head = ["git", "rev-parse", "HEAD"]
        return subprocess.run(head, cwd=workspace, env=env, check=True, capture_output=True, text=True).stdout

    both = "    dev: {version: 2.0.0}\n    prod: {version: 2.0.0}"
    base = commit("    dev: {version: 1.0.0}", both).strip()
    subprocess.run(["git", "update-ref", "refs/remotes/origin/main", base], cwd=workspace, check=True)
    commit("    prod: {version: 2.0.0}", "    prod: {version: 1.5.0}")
    return stub, workspace, base


def test_github_validation_reads_history_up_to_the_merge_base(tmp_path: Path) -> None:
    stub, workspace, _base = _rollback_pull_request(tmp_path, "github")
    workflow = load(workspace / ".github/workflows/mlgitops-validate.yml")
    checkout = workflow["jobs"]["validate"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    stub.env["GITHUB_EVENT_NAME"] = "workflow_dispatch"  # no pull request: no merge base, no history
    GitHubRun(stub, {}).job(workflow, "validate")
    stub.env.update({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"})
    with pytest.raises(AssertionError, match=r"(?s)validate/Validate specs failed.*MLG306.*never served it"):
        GitHubRun(stub, {}).job(workflow, "validate")


def test_gitlab_validation_reads_history_up_to_the_merge_base(tmp_path: Path) -> None:
    stub, workspace, base = _rollback_pull_request(tmp_path, "gitlab")
    config = gitlab_config(workspace, ".gitlab-ci.yml")
    assert config["mlgitops-validate"]["variables"]["GIT_DEPTH"] == "0"
    predefined = {"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_MERGE_REQUEST_IID": "3"}
    with pytest.raises(AssertionError, match=r"(?s)mlgitops-validate failed.*MLG306.*never served it"):
        GitLabRun(stub, config, predefined).job("mlgitops-validate")


def test_the_plan_comment_is_created(tmp_path: Path) -> None:
    stub, _run = _plan_run(tmp_path, "")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("<!-- mlgitops-plan -->\n")
    assert "7.0.1" in summary
    find, post = stub.calls("gh")
    assert find["args"][:2] == ["api", "repos/acme/ml/issues/12/comments"]
    assert "github-actions[bot]" in find["args"][find["args"].index("--jq") + 1]
    assert post["args"][:4] == ["api", "--method", "POST", "repos/acme/ml/issues/12/comments"]
    assert post["args"][-1] == "body=" + summary.rstrip("\n")
    assert post["env"]["GH_TOKEN"] == "workflow-token"


def test_the_plan_comment_is_updated(tmp_path: Path) -> None:
    stub, _run = _plan_run(tmp_path, "4242")
    _find, patch = stub.calls("gh")
    assert patch["args"][:4] == ["api", "--method", "PATCH", "repos/acme/ml/issues/comments/4242"]


def test_the_test_jobs_run_before_validation(tmp_path: Path) -> None:
    for system in ("github", "gitlab"):
        workspace = _project(tmp_path / system / "repo", system, "s3")
        (tmp_path / system / "stub").mkdir()
        stub = Stub.create(workspace, tmp_path / system / "stub")
        if system == "github":
            workflow = load(workspace / ".github/workflows/mlgitops-validate.yml")
            assert workflow["jobs"]["validate"]["needs"] == ["test-unit"]
            assert workflow["jobs"]["test-unit"]["container"]["image"] == "python:3.12.8-slim"
            GitHubRun(stub, {}).job(workflow, "test-unit")
        else:
            config = gitlab_config(workspace, ".gitlab-ci.yml")
            assert config["stages"][:2] == ["test", "validate"]
            assert config["mlgitops-test-unit"]["rules"][0]["changes"] == ["src/**/*"]
            GitLabRun(stub, config, {}).job("mlgitops-test-unit")
        assert (workspace / "tests-ran").read_text() == "--fast\n"


class _GitLabApi(BaseHTTPRequestHandler):
    """The two GitLab API calls the plan note needs, on loopback; notes live in ``notes``."""

    notes: ClassVar[list[dict[str, object]]] = []
    calls: ClassVar[list[tuple[str, str, str]]] = []

    def _reply(self, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        assert self.headers["PRIVATE-TOKEN"] == "bot-token"
        self.calls.append(("GET", self.path, ""))
        self._reply({"id": 7} if self.path == "/api/v4/user" else self.notes)

    def _write(self) -> None:
        length = int(self.headers["Content-Length"])
        body = parse_qs(self.rfile.read(length).decode())["body"][0]
        self.calls.append((self.command, self.path, body))
        self._reply({"id": 1})

    do_POST = do_PUT = _write

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("existing", [False, True])
def test_the_gitlab_plan_note(tmp_path: Path, existing: bool) -> None:
    workspace = _project(tmp_path / "repo", "gitlab", "s3")
    env = {**os.environ, **GIT_ENV}
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], check=True, cwd=workspace, env=env, capture_output=True, text=True
    ).stdout.strip()
    model = workspace / "models" / "iris.yaml"
    model.write_text(model.read_text().replace("version: 1.0.0", f"version: {VERSION}"))
    (tmp_path / "stub").mkdir()
    stub = Stub.create(workspace, tmp_path / "stub")
    subprocess.run(
        ["mlgitops", "compile"], cwd=workspace, env={**env, **stub.env}, check=True, capture_output=True
    )
    subprocess.run(["git", "commit", "-qam", "promote"], cwd=workspace, env=env, check=True)
    theirs = {"id": 90, "author": {"id": 8}, "body": "<!-- mlgitops-plan -->\nsomeone else's"}
    _GitLabApi.notes = [theirs, {"id": 91, "author": {"id": 7}, "body": "<!-- mlgitops-plan -->\nold"}][
        : 2 if existing else 1
    ]
    _GitLabApi.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitLabApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = GitLabRun(
            stub,
            gitlab_config(workspace, ".gitlab-ci.yml"),
            {
                "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
                "CI_MERGE_REQUEST_IID": "3",
                "CI_PROJECT_ID": "5",
                "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v4",
                "ML_BOT_TOKEN": "bot-token",
            },
        )
        run.job("mlgitops-validate")
    finally:
        server.shutdown()
        server.server_close()
    (method, path, body) = _GitLabApi.calls[-1]
    notes = "/api/v4/projects/5/merge_requests/3/notes"
    assert (method, path) == (("PUT", notes + "/91") if existing else ("POST", notes))
    assert body.startswith("<!-- mlgitops-plan -->\n") and VERSION in body
    assert len([c for c in _GitLabApi.calls if c[0] != "GET"]) == 1
