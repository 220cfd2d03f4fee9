"""The one-time repository settings the generated CI needs (`mlgitops ci settings`).

Collected from the IR: environments with required reviewers (`approval: required`), the secrets
and variables each workflow reads, the token promotion pull requests are opened with, the cloud
identities that must trust the repository, and GitLab's pipeline schedules for
`training.schedule`. Printed as a Markdown checklist, as `gh` calls or as `glab` calls; the
values of secrets are never known here, only their names.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from mlgitops import ir


@dataclass(frozen=True)
class Entry:
    name: str
    why: str


@dataclass
class Settings:
    system: str
    revision: str
    protected: list[str] = field(default_factory=list)  # environments with approval: required
    environments: list[str] = field(default_factory=list)
    secrets: list[Entry] = field(default_factory=list)
    variables: list[Entry] = field(default_factory=list)
    schedules: list[tuple[str, str]] = field(default_factory=list)  # (model, cron)
    default_token: bool = True
    trust: list[str] = field(default_factory=list)  # cloud identities to set up, one sentence each
    install: str = ""  # spec.ci.mlgitops: "" unset, else "requirements", "git" or "image"


def one_line(text: str) -> str:
    """Spec text made safe inside Markdown code spans and one-line lists: no control characters
    (a line break would start a list item of its own), no backticks."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 or c == "`" else c for c in text)


def collect(project: ir.Project) -> Settings:
    ci = project.ci_settings
    out = Settings(system=project.ci, revision=one_line(project.revision))
    out.environments = [e.name for e in project.environments]
    install = project.ci_install
    if install is not None:
        out.install = "image" if install.image else "git" if install.git else "requirements"
    out.protected = [e.name for e in project.environments if e.approval]
    secrets: dict[str, str] = {}
    for model in project.models:
        training = model.training
        if training is None:
            continue
        for var in training.env:
            if var.ci_secret:
                secrets.setdefault(var.ci_secret, f"training and evaluation of {model.name} ({var.name})")
        if training.runner == "kubernetes":
            secrets.setdefault("MLGITOPS_KUBECONFIG", "kubeconfig of the cluster training jobs run in")
        if training.schedule:
            out.schedules.append((model.name, training.schedule))
        credentials = model.registry.credentials
        if credentials is not None and credentials.ci_secret:
            secrets.setdefault(credentials.ci_secret, "registry credentials of the register jobs")
    subject = (
        f"repo:<owner>/<repo>:ref:refs/heads/{out.revision}"
        if project.ci == "github"
        else f"project_path:<group>/<project>:ref_type:branch:ref:{out.revision}"
    )
    if ci.aws:
        out.trust.append(f"AWS: role {ci.aws.role_arn} trusts the CI's OpenID Connect provider for {subject}")
    if ci.gcp:
        out.trust.append(
            f"Google Cloud: provider {ci.gcp.workload_identity_provider} admits {subject}, and "
            f"{ci.gcp.service_account} lets it impersonate it (roles/iam.workloadIdentityUser)"
        )
    if ci.azure:
        out.trust.append(f"Azure: the app registration has a federated credential for {subject}")
        out.variables += [
            Entry(ci.azure.client_id_var, "Azure client ID"),
            Entry(ci.azure.tenant_id_var, "Azure tenant ID"),
            Entry(ci.azure.subscription_id_var, "Azure subscription ID"),
            Entry(ci.azure.storage_account_var, "Azure storage account of az:// artifacts"),
        ]
    if project.ci == "github":
        if ci.github_app is not None:
            out.variables.append(
                Entry(ci.github_app[0], "ID of the GitHub App that opens promotion pull requests")
            )
            secrets[ci.github_app[1]] = "private key of that GitHub App"
            out.default_token = False
        elif ci.github_token_secret is not None:
            secrets[ci.github_token_secret] = "token that opens promotion pull requests"
            out.default_token = False
    else:
        secrets[ci.gitlab_token_var] = (
            "project access token (Developer; api, write_repository) for promotions"
        )
        out.default_token = False
    out.secrets = [Entry(name, why) for name, why in sorted(secrets.items())]
    return out


def markdown(settings: Settings) -> str:
    github = settings.system == "github"
    lines = ["# Repository settings for the mlgitops pipelines", ""]
    lines.append(
        "Do these once; `mlgitops ci settings --format " + ("gh" if github else "gitlab") + "` prints"
    )
    lines.append("the commands. Nothing here holds a secret's value, only its name.")
    lines += ["", "## Environments", ""]
    for env in settings.environments:
        rule = "required reviewers" if env in settings.protected else "no protection rule"
        kind = (
            "environment"
            if github
            else "protected environment"
            if env in settings.protected
            else "environment"
        )
        lines.append(f"- [ ] {kind} `{env}`: {rule}")
    lines += ["", "## Secrets" if github else "## CI/CD variables (masked)", ""]
    lines += [f"- [ ] `{s.name}`: {s.why}" for s in settings.secrets] or ["- none"]
    if settings.variables:
        lines += ["", "## Variables", ""]
        lines += [f"- [ ] `{v.name}`: {v.why}" for v in settings.variables]
    lines += ["", "## mlgitops in CI", ""]
    if not settings.install:
        lines.append(
            "- [ ] set spec.ci.mlgitops (a git URL at a commit, a requirements file with hashes or an "
            "image by digest): until then the jobs that run mlgitops stop at their install step"
        )
    elif settings.install == "image":
        lines.append("- [ ] the runners can pull the image spec.ci.mlgitops names (registry access)")
    else:
        lines.append(f"- installed from spec.ci.mlgitops ({settings.install}); nothing to do")
    lines += ["", "## Token permissions", ""]
    if github:
        lines.append(
            "- [ ] Actions → General → Workflow permissions: read repository contents (jobs widen their own)"
        )
        if settings.default_token:
            lines.append(
                "- [ ] Actions → General → allow GitHub Actions to create and approve pull requests "
                "(promotions use github.token; their pull requests start no workflow: name a token "
                "in spec.ci.github.token to get CI on them)"
            )
    else:
        lines.append("- [ ] the project access token above may push branches and open merge requests")
    if settings.trust:
        lines += ["", "## Cloud identities (OpenID Connect)", ""]
        lines += [f"- [ ] {t}" for t in settings.trust]
    if settings.schedules:
        lines += ["", "## Training schedules", ""]
        for model, cron in settings.schedules:
            if github:
                lines.append(f"- `{model}`: `{cron}` (in the workflow; nothing to do)")
            else:
                lines.append(
                    f"- [ ] pipeline schedule `{cron}` on `{settings.revision}` with MLGITOPS_TRAIN={model}"
                )
    return "\n".join(lines) + "\n"


def gh_commands(settings: Settings) -> str:
    q = shlex.quote
    lines = ["# Run in a clone of the repository; gh fills in {owner} and {repo}."]
    for env in settings.environments:
        command = f"gh api --method PUT repos/{{owner}}/{{repo}}/environments/{q(env)}"
        if env in settings.protected:
            command += " -F 'reviewers[][type]=User' -F 'reviewers[][id]=<reviewer user id>'"
        lines.append(command)
    lines += [f"gh secret set {q(s.name)}  # {s.why}" for s in settings.secrets]
    lines += [f"gh variable set {q(v.name)} --body '<value>'  # {v.why}" for v in settings.variables]
    permissions = (
        "gh api --method PUT repos/{owner}/{repo}/actions/permissions/workflow "
        "-f default_workflow_permissions=read"
    )
    lines.append(
        permissions + f" -F can_approve_pull_request_reviews={'true' if settings.default_token else 'false'}"
    )
    lines += [f"# {t}" for t in settings.trust]
    lines += _install_comment(settings)
    return "\n".join(lines) + "\n"


def glab_commands(settings: Settings) -> str:
    q = shlex.quote
    lines = ["# Run in a clone of the project; glab fills in :id."]
    for env in settings.environments:
        lines.append(f"glab api --method POST projects/:id/environments -f name={q(env)}")
        if env in settings.protected:
            lines.append(
                f"glab api --method POST projects/:id/protected_environments -f name={q(env)} "
                "-f 'deploy_access_levels[][access_level]=40' -f 'approval_rules[][access_level]=40' "
                "-f 'approval_rules[][required_approvals]=1'"
            )
    lines += [f"glab variable set {q(s.name)} --masked --protected  # {s.why}" for s in settings.secrets]
    lines += [f"glab variable set {q(v.name)} --value '<value>'  # {v.why}" for v in settings.variables]
    for model, cron in settings.schedules:
        lines.append(
            f"glab schedule create --cron {q(cron)} --ref {q(settings.revision)} "
            f"--description {q('mlgitops train ' + model)} --variable {q('MLGITOPS_TRAIN:' + model)}"
        )
    lines += [f"# {t}" for t in settings.trust]
    lines += _install_comment(settings)
    return "\n".join(lines) + "\n"


def _install_comment(settings: Settings) -> list[str]:
    """No command sets spec.ci.mlgitops: it is said as a comment, as the checklist says it."""
    if settings.install:
        return []
    return ["# set spec.ci.mlgitops: until then the jobs that run mlgitops stop at their install step"]
