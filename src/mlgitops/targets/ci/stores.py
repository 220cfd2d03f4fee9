"""Artifact stores: the upload script, and the cloud login (OpenID Connect, no long-lived keys)
each scheme needs (which schemes each CI system uploads to: ``platforms.CI_UPLOAD_SCHEMES``).

The upload script is one ``case`` over the URI's scheme, shared by GitHub and GitLab; it reads
only environment variables (``MLGITOPS_MODEL_URI``, ``MLGITOPS_MODEL_DIR``, ``MLGITOPS_VERSION``,
``REGISTRY_CREDENTIALS`` from the artifact registry's ``credentials``, ``AZURE_STORAGE_ACCOUNT``).
``REGISTRY_CREDENTIALS`` is, per scheme: an AWS shared credentials file (``s3://``), a service
account key (``gs://``), a SAS token (``az://``, ``abfss://``), the registry password
(``oci://``, user ``REGISTRY_USERNAME``) or a Hugging Face token (``hf://``). A cloud login from
``spec.ci.cloud`` (OpenID Connect) needs none of them and is preferred: AWS takes its web
identity before a shared credentials file, and a Google login's credentials are kept.
A CLI missing from the job's image is installed at an exact version.
"""

from __future__ import annotations

from mlgitops import ir

AWS_SCHEMES = frozenset({"s3"})
GCP_SCHEMES = frozenset({"gs", "gcs"})
AZURE_SCHEMES = frozenset({"az", "abfs", "abfss"})

# Exact versions of the CLIs the script installs when the image has none.
AWSCLI = "awscli==1.46.3"
GSUTIL = "gsutil==5.38"
AZURE_CLI = "azure-cli==2.91.0"
HUGGINGFACE_HUB = "huggingface_hub==1.33.0"
_PIP = "python3 -m pip install --quiet --disable-pip-version-check"


def uploads(model: ir.Model) -> bool:
    """Whether CI uploads this model (runner: ci); in-cluster training writes the model itself."""
    return model.training is not None and model.training.runner != "kubernetes"


UPLOAD_MODEL = f"""\
set -eu
dest="$MLGITOPS_MODEL_URI"
case "$dest" in
  s3://*)
    command -v aws >/dev/null || {_PIP} "{AWSCLI}"
    if [ -n "${{REGISTRY_CREDENTIALS:-}}" ]; then
      AWS_SHARED_CREDENTIALS_FILE="$(mktemp)"
      printf '%s\\n' "$REGISTRY_CREDENTIALS" > "$AWS_SHARED_CREDENTIALS_FILE"
      export AWS_SHARED_CREDENTIALS_FILE
    fi
    aws s3 cp --recursive --only-show-errors "$MLGITOPS_MODEL_DIR" "$dest" ;;
  gs://*|gcs://*)
    dest="gs://${{dest#*://}}"
    if [ -n "${{REGISTRY_CREDENTIALS:-}}" ] && [ -z "${{GOOGLE_APPLICATION_CREDENTIALS:-}}" ]; then
      GOOGLE_APPLICATION_CREDENTIALS="$(mktemp)"
      printf '%s' "$REGISTRY_CREDENTIALS" > "$GOOGLE_APPLICATION_CREDENTIALS"
      CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE="$GOOGLE_APPLICATION_CREDENTIALS"
      export GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE
    fi
    if command -v gcloud >/dev/null; then
      gcloud storage cp --recursive "$MLGITOPS_MODEL_DIR/*" "$dest"
    else
      command -v gsutil >/dev/null || {_PIP} "{GSUTIL}"
      gsutil -m cp -r "$MLGITOPS_MODEL_DIR/*" "$dest"
    fi ;;
  az://*|abfs://*|abfss://*)
    rest="${{dest#*://}}"
    authority="${{rest%%/*}}"
    case "$dest" in
      az://*) container="$authority"; account="${{AZURE_STORAGE_ACCOUNT:-}}" ;;
      *) container="${{authority%%@*}}"; host="${{authority#*@}}"; account="${{host%%.*}}" ;;
    esac
    if [ -z "$account" ]; then echo "no storage account for $dest: set AZURE_STORAGE_ACCOUNT" >&2; exit 1; fi
    path="${{rest#"$authority"}}"
    path="${{path#/}}"
    path="${{path%/}}"
    command -v az >/dev/null || {_PIP} "{AZURE_CLI}"
    set -- --auth-mode login
    if [ -n "${{REGISTRY_CREDENTIALS:-}}" ]; then set -- --sas-token "$REGISTRY_CREDENTIALS"; fi
    az storage blob upload-batch --account-name "$account" --destination "$container" \\
      --destination-path "$path" --source "$MLGITOPS_MODEL_DIR" --overwrite true --only-show-errors "$@" ;;
  oci://*)
    ref="${{dest#oci://}}"
    ref="${{ref%/}}"
    if [ -n "${{REGISTRY_CREDENTIALS:-}}" ]; then
      printf '%s' "$REGISTRY_CREDENTIALS" | oras login --username "${{REGISTRY_USERNAME:-mlgitops}}" \\
        --password-stdin "${{ref%%/*}}"
    fi
    (cd "$MLGITOPS_MODEL_DIR" && oras push "$ref" .) ;;
  hf://*)
    python3 -c 'import huggingface_hub' 2>/dev/null || {_PIP} "{HUGGINGFACE_HUB}"
    python3 - <<'PY'
import os

from huggingface_hub import HfApi

parts = os.environ["MLGITOPS_MODEL_URI"].split("://", 1)[1].strip("/").split("/")
repo, path = "/".join(parts[:2]), "/".join(parts[2:])
repo, _, revision = repo.partition(":")
api = HfApi(token=os.environ.get("REGISTRY_CREDENTIALS") or os.environ.get("HF_TOKEN") or None)
if revision:
    api.create_branch(repo, branch=revision, exist_ok=True)
api.upload_folder(
    repo_id=repo,
    folder_path=os.environ["MLGITOPS_MODEL_DIR"],
    path_in_repo=path or None,
    revision=revision or None,
    commit_message="mlgitops " + os.environ["MLGITOPS_VERSION"],
)
print("uploaded to hf://" + repo + "/" + path)
PY
    ;;
  file:///*)
    # A directory the runner can write (a self-hosted runner's shared volume; the e2e test).
    destination="${{dest#file://}}"
    mkdir -p "$destination"
    cp -R "$MLGITOPS_MODEL_DIR/." "$destination" ;;
  *) echo "no uploader for $dest; write the model there from the training job" >&2; exit 1 ;;
esac
"""

# GitLab: the job's ID tokens (``id_tokens:``), one per cloud, each with its audience.
GITLAB_ID_TOKENS = {
    "aws": ("MLGITOPS_AWS_ID_TOKEN", "sts.amazonaws.com"),
    "azure": ("MLGITOPS_AZURE_ID_TOKEN", "api://AzureADTokenExchange"),
}
GCP_ID_TOKEN = "MLGITOPS_GCP_ID_TOKEN"

# The AWS CLI and SDKs assume AWS_ROLE_ARN with the token in AWS_WEB_IDENTITY_TOKEN_FILE.
GITLAB_AWS_LOGIN = """\
printf '%s' "$MLGITOPS_AWS_ID_TOKEN" > "$CI_PROJECT_DIR/.mlgitops-aws-token"
export AWS_WEB_IDENTITY_TOKEN_FILE="$CI_PROJECT_DIR/.mlgitops-aws-token"
export AWS_ROLE_SESSION_NAME="mlgitops-$CI_PIPELINE_ID"
"""

# Workload identity federation: an external-account credential file reading the ID token.
GITLAB_GCP_LOGIN = """\
printf '%s' "$MLGITOPS_GCP_ID_TOKEN" > "$CI_PROJECT_DIR/.mlgitops-gcp-token"
python3 - <<'PY'
import json, os

provider, account = os.environ["GCP_WORKLOAD_IDENTITY_PROVIDER"], os.environ["GCP_SERVICE_ACCOUNT"]
config = {
    "type": "external_account",
    "audience": "//iam.googleapis.com/" + provider,
    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    "token_url": "https://sts.googleapis.com/v1/token",
    "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/"
    "serviceAccounts/" + account + ":generateAccessToken",
    "credential_source": {"file": os.environ["CI_PROJECT_DIR"] + "/.mlgitops-gcp-token"},
}
with open(os.environ["CI_PROJECT_DIR"] + "/.mlgitops-gcp.json", "w") as out:
    json.dump(config, out)
PY
export GOOGLE_APPLICATION_CREDENTIALS="$CI_PROJECT_DIR/.mlgitops-gcp.json"
export CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE="$GOOGLE_APPLICATION_CREDENTIALS"
"""

GITLAB_AZURE_LOGIN = f"""\
command -v az >/dev/null || {_PIP} "{AZURE_CLI}"
az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \\
  --federated-token "$MLGITOPS_AZURE_ID_TOKEN" --output none
az account set --subscription "$AZURE_SUBSCRIPTION_ID"
"""
