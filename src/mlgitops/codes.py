"""The catalogue of diagnostic codes.

Codes are stable: once released, a code keeps its meaning forever, so that
users can grep for it, CI can allow-list it and docs can link to it.  Ranges:
MLG0xx discovery, MLG1xx loading, MLG2xx schema, MLG3xx semantics,
MLG4xx policies, MLG5xx rendering and emitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    title: str
    severity: Severity


_E = Severity.ERROR
_W = Severity.WARNING

CODES: dict[str, CodeInfo] = {
    info.code: info
    for info in (
        # discovery
        CodeInfo("MLG001", "project file not found", _E),
        CodeInfo("MLG002", "no model files matched", _W),
        CodeInfo("MLG003", "include pattern escapes the project", _E),
        CodeInfo("MLG004", "include pattern matches a symbolic link mlgitops does not follow", _E),
        CodeInfo("MLG005", "include pattern matches a directory", _E),
        CodeInfo("MLG006", "include pattern matches a special file", _E),
        CodeInfo("MLG007", "file or directory under an include pattern cannot be read", _E),
        CodeInfo("MLG008", "project file is not a regular file inside the project", _E),
        CodeInfo("MLG009", "no project file found searching upward", _E),
        CodeInfo("MLG010", "file named on the command line is not a model file of its project", _E),
        # loading
        CodeInfo("MLG101", "file is not valid UTF-8", _E),
        CodeInfo("MLG102", "file too large", _E),
        CodeInfo("MLG103", "YAML syntax error", _E),
        CodeInfo("MLG104", "duplicate key", _E),
        CodeInfo("MLG105", "alias expansion too large", _E),
        CodeInfo("MLG106", "tab in indentation", _E),
        CodeInfo("MLG107", "several YAML documents in one file", _E),
        CodeInfo("MLG108", "document is not a mapping", _E),
        CodeInfo("MLG109", "unsupported apiVersion", _E),
        CodeInfo("MLG110", "wrong kind", _E),
        CodeInfo("MLG111", "unsupported YAML tag", _E),
        CodeInfo("MLG112", "mapping key is not a plain string", _E),
        CodeInfo("MLG113", "file cannot be read", _E),
        CodeInfo("MLG114", "document nested too deeply", _E),
        # schema
        CodeInfo("MLG201", "unknown field", _E),
        CodeInfo("MLG202", "missing required field", _E),
        CodeInfo("MLG203", "wrong type", _E),
        CodeInfo("MLG204", "value not allowed", _E),
        CodeInfo("MLG205", "value out of range", _E),
        CodeInfo("MLG206", "invalid value", _E),
        CodeInfo("MLG207", "number or boolean where text is expected", _E),
        CodeInfo("MLG208", "number is not finite (NaN or infinity)", _E),
        CodeInfo("MLG209", "regular expression is not valid RE2", _E),
        CodeInfo(
            "MLG210", "text kustomize cannot carry exactly (NEL, or a tab that begins a multi-line text)", _E
        ),
        # semantics
        CodeInfo("MLG301", "duplicate model name", _E),
        CodeInfo("MLG302", "name is not a DNS-1123 label", _E),
        CodeInfo("MLG303", "deployment to an undeclared environment", _E),
        CodeInfo("MLG304", "canary traffic outside 1..99", _E),
        CodeInfo("MLG305", "canary version equals the stable version", _E),
        CodeInfo("MLG306", "version skips the promotion order", _E),
        CodeInfo("MLG307", "invalid Kubernetes quantity", _E),
        CodeInfo("MLG308", "invalid cron expression", _E),
        CodeInfo("MLG309", "SLO objective outside (0, 100)", _E),
        CodeInfo("MLG310", "secret-looking literal", _E),
        CodeInfo("MLG311", "retired model still deployed", _E),
        CodeInfo("MLG312", "duplicate environment", _E),
        CodeInfo("MLG313", "artifact URI lacks the {version} placeholder", _E),
        CodeInfo("MLG314", "evaluation gate without a usable bound", _E),
        CodeInfo("MLG315", "invalid duration", _E),
        CodeInfo("MLG316", "custom runtime needs an image", _E),
        CodeInfo("MLG317", "autoscaling bounds are inconsistent", _E),
        CodeInfo("MLG318", "deprecated model past its sunset date", _W),
        CodeInfo("MLG319", "policy names an undeclared environment", _E),
        CodeInfo("MLG320", "required serving field not set in any layer", _E),
        CodeInfo("MLG321", "reference to an undeclared model or data source", _E),
        CodeInfo("MLG322", "invalid URI", _E),
        CodeInfo("MLG323", "invalid container image reference", _E),
        CodeInfo("MLG324", "cluster reference not usable by the GitOps engine", _E),
        CodeInfo("MLG325", "environment named like a project-wide output directory", _E),
        CodeInfo("MLG326", "annotations too large for a Kubernetes object", _E),
        CodeInfo("MLG327", "label value too long for Kubernetes", _E),
        CodeInfo("MLG328", "two environments deploy to the same cluster and namespace", _E),
        CodeInfo("MLG329", "output path not usable", _E),
        CodeInfo("MLG330", "null on a field the serving target cannot leave to the platform", _E),
        CodeInfo("MLG331", "null leaves a value without the field it belongs to", _E),
        CodeInfo("MLG332", "autoscaling metric the serving target cannot scale on", _E),
        CodeInfo("MLG333", "KServe annotation contradicts the spec", _E),
        CodeInfo("MLG334", "artifact URI the serving target cannot fetch", _E),
        CodeInfo("MLG335", "latency SLO without a latency histogram", _E),
        CodeInfo("MLG336", "training paths include files promotions edit (retraining loop)", _W),
        CodeInfo("MLG337", "pod hardening relaxed by the spec", Severity.NOTE),
        CodeInfo("MLG338", "serving setting the serving target (or KServe's mode) cannot honour", _E),
        CodeInfo("MLG339", "scrape port not on the model's pods", _E),
        CodeInfo("MLG340", "canary split the serving target cannot make exactly", _E),
        CodeInfo("MLG341", "canary split not reproducible from git", _W),
        CodeInfo("MLG342", "traffic router unusable with the serving target", _E),
        CodeInfo("MLG343", "traffic setting needs a gateway-api or istio router", _E),
        CodeInfo("MLG344", "deprecated model takes a new version", _E),
        CodeInfo("MLG345", "experiment variants unusable", _E),
        CodeInfo("MLG350", "artifact store the CI system has no uploader for", _E),
        CodeInfo(
            "MLG351", "promotion pull requests opened with github.token start no workflow", Severity.NOTE
        ),
        CodeInfo("MLG352", "CI does not know which mlgitops to install (spec.ci.mlgitops unset)", _W),
        CodeInfo("MLG353", "per-environment CI secret names no CI job reads", _E),
        CodeInfo("MLG360", "registry setting the project's registry kind cannot honour", _E),
        CodeInfo("MLG361", "two models serve under one name in a namespace", _E),
        CodeInfo("MLG362", "placeholder in the registered model name", _E),
        CodeInfo("MLG370", "GitOps setting the GitOps engine cannot honour", _E),
        CodeInfo("MLG371", "Argo CD application name not usable", _E),
        CodeInfo("MLG380", "serving runtime not built in nor declared in spec.runtimes", _E),
        CodeInfo("MLG381", "protocol the model's declared serving runtime does not serve", _E),
        CodeInfo("MLG382", "serving runtime setting the serving target cannot honour", _E),
        CodeInfo("MLG383", "serving runtime declared twice or named like a built-in runtime", _E),
        CodeInfo("MLG390", "distributed training without runner: kubernetes", _E),
        CodeInfo(
            "MLG391", "distributed training scheduled by CI only (no in-cluster CronJob)", Severity.NOTE
        ),
        CodeInfo("MLG392", "GPUs per worker contradict the training resources", _E),
        CodeInfo("MLG393", "Ray training without a command (the Ray job's entrypoint)", _E),
        # policies
        CodeInfo("MLG401", "policy: evaluation gate required", _E),
        CodeInfo("MLG402", "policy: SLO required", _E),
        CodeInfo("MLG403", "policy: mutable image tag", _E),
        CodeInfo("MLG404", "policy: approval required", _E),
        CodeInfo("MLG405", "policy: drift image not pinned by digest", _W),
        CodeInfo("MLG406", "policy: security relaxation forbidden", _E),
        CodeInfo("MLG407", "policy: mutable version name", _E),
        # rendering and emitting
        CodeInfo("MLG501", "refusing to overwrite a file mlgitops does not own", _E),
        CodeInfo("MLG502", "unsafe output path", _E),
        CodeInfo("MLG503", "template error", _E),
        CodeInfo("MLG504", "template directory not usable", _E),
        CodeInfo("MLG505", "an interrupted compile left the tree mid-update", _E),
        CodeInfo("MLG506", "unexpected entry in the template directory", _E),
        CodeInfo("MLG507", "override template cannot be used", _E),
        CodeInfo("MLG510", "state under .mlgitops/ is a link or the wrong kind of file", _E),
        CodeInfo("MLG511", "local state under .mlgitops/ is tracked by git", _E),
        CodeInfo("MLG512", "ownership manifest unusable", _E),
        CodeInfo("MLG513", "journal of an interrupted compile refused", _E),
        CodeInfo("MLG514", "listed file not pruned: not provably generated and unchanged", _W),
        CodeInfo("MLG515", "generated file edited by hand", _W),
        CodeInfo("MLG516", "the project cannot be written", _E),
        CodeInfo("MLG517", "model deleted while deployed", _E),
    )
}


def info(code: str) -> CodeInfo:
    """Return the catalogue entry of ``code`` (a KeyError is a bug in mlgitops)."""
    return CODES[code]
