"""What the CI targets (GitHub Actions, GitLab CI) share: the training contract and shell scripts.

The contract between mlgitops' pipelines and the user's training and
evaluation containers (documented in docs/ci.md) is a set of environment
variables:

* ``MLGITOPS_MODEL``, ``MLGITOPS_VERSION``: what is being trained;
* ``MLGITOPS_OUTPUT_DIR``: where training writes the model (``runner: ci``);
* ``MLGITOPS_MODEL_URI``: where the version is registered: the serving
  artifact with ``{version}`` filled in (``runner: kubernetes`` writes there);
  a scheduled in-cluster run (targets/ci/training.py) has no version and gets
  ``MLGITOPS_MODEL_URI_TEMPLATE`` (``{version}`` left in) instead;
* ``MLGITOPS_DATA_<NAME>_URI`` / ``_VERSION``: each data source;
* ``MLGITOPS_MODEL_DIR``, ``MLGITOPS_METRICS_FILE``: for evaluation.

Scripts built here never contain a spec value: values reach them as
environment variables, so neither the CI's expression syntax nor the shell
can be injected through a spec.
"""

from __future__ import annotations

import re
import shlex

from mlgitops import ir

OUTPUT_DIR = "mlgitops-model"
METRICS_DIR = "mlgitops-metrics"
PYTHON_VERSION = "3.12"
_NOT_ENV_CHAR = re.compile(r"[^A-Za-z0-9_]")
# Characters with a meaning in path filters: GitHub's filter patterns, GitLab's (Ruby fnmatch).
GITHUB_SPECIAL = "*?+[]!\\"
GITLAB_SPECIAL = "*?[]{}\\"
_LITERAL_SPECIAL = {False: GITHUB_SPECIAL, True: GITLAB_SPECIAL}


PIP_INSTALL = "python -m pip install --disable-pip-version-check"
_SCP_LIKE = re.compile(r"^([^@/:]+@)([^/:]+):(?!//)(.+)$")


# Without spec.ci.mlgitops CI has no way to name the mlgitops it runs: it must not fetch a name
# from a package index (no release exists, and whoever publishes that name first would run with
# the repository's secrets), so the install step stops with what to do (docs/ci.md).
UNPINNED_INSTALL = (
    "echo 'mlgitops is not installed: spec.ci.mlgitops is not set. Name what CI runs there: a "
    "requirements file with hashes, a git URL at a commit, or an image by digest (docs/ci.md, "
    "Installing mlgitops in CI), then run mlgitops compile.' >&2; exit 1"
)


def install_command(install: ir.CiInstall | None = None) -> str:
    """The shell line CI installs mlgitops with (``spec.ci.mlgitops``), run in the project
    directory: a requirements file with hashes, or a git URL at a commit; in an image that holds
    mlgitops, a check that it does; without any, a line that stops the job."""
    if install is None:
        return UNPINNED_INSTALL
    if install.requirements:
        return f"{PIP_INSTALL} --require-hashes -r {shlex.quote(install.requirements)}"
    if install.git:
        url = _SCP_LIKE.sub(r"ssh://\1\2/\3", install.git)  # pip takes ssh:// URLs, not git@host:path
        return f"{PIP_INSTALL} {shlex.quote(f'mlgitops @ git+{url}@{install.commit}')}"
    return "mlgitops --version"  # the job runs in install.image, which holds it


def mlgitops_image(install: ir.CiInstall | None) -> str:
    """The image the jobs that run mlgitops run in (``spec.ci.mlgitops.image``), or ""."""
    return install.image if install is not None else ""


def install_inputs(project: ir.Project, *, gitlab: bool = False) -> list[str]:
    """Path filters for the requirements file CI installs mlgitops from: changing it must run
    validation, which installs from it."""
    install = project.ci_install
    if install is None or not install.requirements:
        return []
    literal = _LITERAL_SPECIAL[gitlab]
    prefix = f"{project.repo_subdir}/" if project.repo_subdir else ""
    return [escape_literal(prefix + install.requirements, literal)]


def data_variables(model: ir.Model) -> dict[str, str]:
    out: dict[str, str] = {}
    for source in model.data:
        key = _NOT_ENV_CHAR.sub("_", source.name).upper()
        out[f"MLGITOPS_DATA_{key}_URI"] = source.uri
        if source.version is not None:
            out[f"MLGITOPS_DATA_{key}_VERSION"] = source.version
    return out


def glob_path(path: str, everything: str, special: str = GITHUB_SPECIAL) -> str:
    """A training path (a literal path, not a pattern) as a CI path filter: ``src/`` means
    everything below it; the filter syntax's special characters are escaped so a path such
    as ``data[1]`` or ``a+b`` matches itself (and actionlint accepts it)."""
    literal = escape_literal(path, special)
    return literal + everything if path.endswith("/") else literal


def escape_literal(text: str, special: str) -> str:
    return "".join("\\" + c if c in special else c for c in text)


def spec_input_patterns(project: ir.Project, everything: str, *, gitlab: bool = False) -> list[str]:
    """Path filters (relative to the repository root) for every file a compile reads or owns:
    the project file, the model specs ``spec.include`` matches, the override templates
    (``spec.templates``), the compiled tree and mlgitops' state, so no pull request that
    changes what compile sees skips validation."""
    prefix = escape_literal(
        f"{project.repo_subdir}/" if project.repo_subdir else "", _LITERAL_SPECIAL[gitlab]
    )
    patterns = ["mlgitops.yaml", *(_include_filter(p, gitlab) for p in project.include)]
    literal = _LITERAL_SPECIAL[gitlab]
    if project.templates:
        patterns.append(escape_literal(project.templates, literal) + "/" + everything)
    patterns += [escape_literal(project.output, literal) + "/" + everything, ".mlgitops/" + everything]
    return [prefix + p for p in dict.fromkeys(patterns)]


def _include_filter(pattern: str, gitlab: bool) -> str:
    """A ``spec.include`` glob (fnmatch per path part, ``**`` spanning directories) as a CI filter.

    ``*``, ``**`` and ``[...]`` mean the same to GitHub, GitLab (Ruby's fnmatch) and us. GitHub's
    ``?`` means "the previous character, optional" and ``+`` "one or more of it", so our ``?`` (any
    one character) widens to ``*`` there, which can only run validation more often, and ``+``/``!``
    are escaped; GitLab reads ``{a,b}`` as alternatives, so braces are escaped."""
    if gitlab:
        return "".join("\\" + c if c in "{}" else c for c in pattern)
    out = pattern.replace("?", "*")
    out = "".join("\\" + c if c == "+" else c for c in out)
    return "\\" + out if out.startswith("!") else out


def command_variables(prefix: str, command: tuple[str, ...], args: tuple[str, ...]) -> dict[str, str]:
    """A command's words as variables ``<prefix>_0``, ``<prefix>_1``…: scripts name them, never embed them."""
    return {f"{prefix}_{index}": word for index, word in enumerate([*command, *args])}


def run_variables(prefix: str, count: int) -> str:
    """The script line that runs a command passed by :func:`command_variables` (one word each)."""
    if count == 0:
        return ""
    return "set -- " + " ".join(f'"${prefix}_{index}"' for index in range(count)) + '\n"$@"\n'


CHOOSE_VERSION = """\
set -eu
version="${REQUESTED_VERSION:-}"
if [ -z "$version" ]; then
  version="$(date -u +%Y.%m.%d).${RUN_NUMBER}"
fi
case "$version" in
  ""|-*|*[!A-Za-z0-9._-]*) echo "invalid version: $version" >&2; exit 1 ;;
esac
"""

RESOLVE_MODEL_URI = """\
MLGITOPS_MODEL_URI="$(printf '%s' "$ARTIFACT_TEMPLATE" | sed "s/{version}/${MLGITOPS_VERSION}/g")"
export MLGITOPS_MODEL_URI
"""

# The CI job that trains gets this much longer than the training itself: checkout and set-up
# run first, and with runner: kubernetes the Job's own deadline (the training time limit) must
# pass, and the failure be reported with the Job's logs, before the runner kills the CI job.
TRAIN_JOB_MARGIN_MINUTES = 15

# Starts the training Job (JOB_MANIFEST, JOB_NAMESPACE, MLGITOPS_VERSION, a KUBECONFIG) and waits
# for it to complete or fail. Both outcomes are polled: `kubectl wait --for=condition=complete`
# alone would sit out the whole timeout after the Job failed. A failed read (an API server
# blip) is retried; ten in a row end the step. The step waits five minutes past the training
# limit, so that the Job's own deadline (activeDeadlineSeconds) fails it first, with its logs.
# The manifest may hold a distributed run instead (training.distributed), each kind with its own
# outcome: a Job or a Kubeflow TrainJob has a true `Complete` or `Failed` condition, a
# PyTorchJob `Succeeded` or `Failed`; a RayJob has `.status.jobStatus` SUCCEEDED, FAILED or
# STOPPED, and `.status.jobDeploymentStatus` Failed when its Ray cluster never ran the job.
# Failure is matched first, since a finished RayJob is `Complete` whatever its job's outcome.
# The logs are the pods' of the run: a Job's own, the JobSet's of a TrainJob, a PyTorchJob's
# replicas', and a RayJob's submitter Job (which follows the Ray job's output).
RUN_CLUSTER_JOB = """\
job="$(sed "s/__MLGITOPS_VERSION__/${MLGITOPS_VERSION}/g" "$JOB_MANIFEST" \\
  | kubectl create --namespace "$JOB_NAMESPACE" -f - -o name)"
name="${job#*/}"
status='{range .status.conditions[?(@.status=="True")]}{.type} {end}'
case "$job" in
  trainjob.*) logs="--selector=jobset.sigs.k8s.io/jobset-name=$name" ;;
  pytorchjob.*) logs="--selector=training.kubeflow.org/job-name=$name" ;;
  rayjob.*)
    status='{.status.jobStatus} {.status.jobDeploymentStatus} '
    logs="job.batch/$name" ;;
  *) logs="$job" ;;
esac
deadline=$(( $(date +%s) + TIMEOUT_MINUTES * 60 + 300 ))
unreadable=0
while :; do
  if conditions="$(kubectl get --namespace "$JOB_NAMESPACE" "$job" -o jsonpath="$status")"; then
    unreadable=0
  else
    unreadable=$((unreadable + 1))
    if [ "$unreadable" -ge 10 ]; then
      echo "cannot read $job from the cluster (10 attempts in a row)" >&2
      exit 1
    fi
    conditions=""
  fi
  case " $conditions" in
    *" Failed "*|*" FAILED "*|*" STOPPED "*)
      kubectl logs --namespace "$JOB_NAMESPACE" "$logs" --all-containers --tail=200 >&2 || true
      echo "training job $job failed" >&2
      exit 1 ;;
    *" Complete "*|*" Succeeded "*|*" SUCCEEDED "*) break ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    kubectl logs --namespace "$JOB_NAMESPACE" "$logs" --all-containers --tail=200 >&2 || true
    echo "training job $job did not finish within $TIMEOUT_MINUTES minutes" >&2
    exit 1
  fi
  sleep 15
done
"""

REGISTER_MLFLOW = """\
set -eu
python3 - <<'PY'
import json, os, urllib.error, urllib.request

api = os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow/"
token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
name = os.environ["REGISTERED_NAME"]
uri, version = os.environ["MLGITOPS_MODEL_URI"], os.environ["MLGITOPS_VERSION"]


def post(path, body, tolerated=()):
    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code in tolerated:
            return None
        detail = error.read().decode("utf-8", "replace")[:1000]
        raise SystemExit(f"MLflow {path}: HTTP {error.code}: {detail}") from None


post("registered-models/create", {"name": name}, tolerated=(400,))  # 400: RESOURCE_ALREADY_EXISTS
# Where the version came from, on the version itself: its data sources and the commit.
tags = {"mlgitops.version": version}
for key, value in sorted(os.environ.items()):
    if key.startswith("MLGITOPS_DATA_") and value:
        tags["mlgitops.data." + key[len("MLGITOPS_DATA_"):].lower()] = value
commit = os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA") or ""
if commit:
    tags["mlgitops.git.commit"] = commit
body = {"name": name, "source": uri, "description": "mlgitops " + version}
body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
created = post("model-versions/create", body)
number = created["model_version"]["version"]
print(f"registered {name} version {number} from {uri}")
alias = os.environ.get("REGISTRY_ALIAS", "")
if alias:
    post("registered-models/alias", {"name": name, "alias": alias, "version": number})
    print(f"alias {alias} -> version {number}")
PY
"""


def run_numbered_variables(prefix: str, otherwise: str = "") -> str:
    """A script that runs the command passed as ``<prefix>_0``, ``<prefix>_1``… however many words
    there are (one script serves every model), or ``otherwise`` when there is none. ``eval`` only
    ever sees the variable's name, built from a counter, never its value."""
    loop = (
        "set --\n"
        "i=0\n"
        f'while eval "[ -n \\"\\${{{prefix}_$i+set}}\\" ]"; do\n'
        f'  eval "set -- \\"\\$@\\" \\"\\${{{prefix}_$i}}\\""\n'
        "  i=$((i + 1))\n"
        "done\n"
    )
    if not otherwise:
        return loop + '"$@"\n'
    return loop + f'if [ "$#" -gt 0 ]; then "$@"; else {otherwise}; fi\n'
