"""The plan on every pull request: ``mlgitops diff`` against the merge base, kept in one sticky
comment (GitHub) or merge-request note (GitLab) that each push updates.

The comment is found by the marker on its first line, and only among the CI's own comments;
the diff runs with read-only permissions, and only a separate job that runs no code from the
pull request may write the comment (never for forks, whose plan stays in the job summary).
"""

from __future__ import annotations

MARKER = "<!-- mlgitops-plan -->"

# GitHub, in the pull request's checkout: the plan as Markdown, also in the job summary.
GITHUB_PLAN = f"""\
set -eu
{{ echo '{MARKER}'; mlgitops diff --format markdown; }} > "$RUNNER_TEMP/plan.md"
cat "$RUNNER_TEMP/plan.md" >> "$GITHUB_STEP_SUMMARY"
"""

# GitHub, in a job with pull-requests: write that checks nothing out: update or create the comment.
GITHUB_COMMENT = f"""\
set -eu
body="$(cat "$PLAN_DIR/plan.md")"
id="$(gh api "repos/$REPOSITORY/issues/$PR_NUMBER/comments" --paginate \\
  --jq '.[] | select(.user.login == "github-actions[bot]" and (.body | startswith("{MARKER}"))) | .id' \\
  | head -n 1)"
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$REPOSITORY/issues/comments/$id" -f body="$body" > /dev/null
else
  gh api --method POST "repos/$REPOSITORY/issues/$PR_NUMBER/comments" -f body="$body" > /dev/null
fi
"""

# GitLab: the plan, then one note on the merge request through the API with the project token
# (absent in pipelines of forks, whose plan stays in the job log).
GITLAB_PLAN = f"""\
{{ echo '{MARKER}'; mlgitops diff --format markdown; }} > "$CI_PROJECT_DIR/mlgitops-plan.md"
cat "$CI_PROJECT_DIR/mlgitops-plan.md"
python3 - <<'PY'
import json, os, sys, urllib.parse, urllib.request

token = os.environ.get("MLGITOPS_GITLAB_TOKEN", "")
if not token or not os.environ.get("CI_MERGE_REQUEST_IID"):
    print("no project token here: the plan above stays in the job log")
    sys.exit(0)
body = open(os.environ["CI_PROJECT_DIR"] + "/mlgitops-plan.md", encoding="utf-8").read()
notes = "{{}}/projects/{{}}/merge_requests/{{}}/notes".format(
    os.environ["CI_API_V4_URL"], os.environ["CI_PROJECT_ID"], os.environ["CI_MERGE_REQUEST_IID"]
)


def call(method, url, data=None):
    request = urllib.request.Request(url, method=method, data=data)
    request.add_header("PRIVATE-TOKEN", token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


me = call("GET", os.environ["CI_API_V4_URL"] + "/user")["id"]
mine = [
    n for n in call("GET", notes + "?per_page=100&sort=asc")
    if n["author"]["id"] == me and n["body"].startswith("{MARKER}")
]
data = urllib.parse.urlencode({{"body": body}}).encode()
if mine:
    call("PUT", notes + "/" + str(mine[0]["id"]), data)
else:
    call("POST", notes, data)
PY
"""
