"""Constrained scalar types shared by the spec models.

Each type validates with a PydanticCustomError whose type is the stable
diagnostic code, so the schema stage maps it to a diagnostic one to one.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from mlgitops.spec.cron import cron_problem
from mlgitops.spec.quantity import QUANTITY_PATTERN, is_quantity
from mlgitops.spec.re2syntax import selector_problem

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_DNS_LABEL = re.compile(DNS_LABEL_PATTERN)
MODEL_NAME_PATTERN = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
_DURATION = re.compile(DURATION_PATTERN)
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_DURATION_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "y": 31536000,
}
# Five fields of the characters a cron field may hold; spec/cron.py checks the rest (ranges, names).
CRON_PATTERN = r"^\s*[0-9A-Za-z*,/-]+(\s+[0-9A-Za-z*,/-]+){4}\s*$"
VERSION_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"
_VERSION = re.compile(VERSION_PATTERN)
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
METRIC_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:-]*$"
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
# registry/namespace/name[:tag][@sha256:digest], lower-case repository path
IMAGE_PATTERN = (
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$"
)
_IMAGE = re.compile(IMAGE_PATTERN)
_URI_SCHEMES = (
    "s3",
    "gs",
    "gcs",
    "az",
    "abfs",
    "abfss",
    "hdfs",
    "http",
    "https",
    "oci",
    "pvc",
    "hf",
    "mlflow",
    "file",
    "runs",
    "models",
    "git",
    "ssh",
    "dbfs",
    "wasbs",
)


_NUMBERS = (bool, int, float)  # a tuple: ``bool | int | float`` would be built on every call


def _text_only(value: Any) -> Any:
    """Refuse numbers and booleans where text is expected, with the reason.

    YAML reads ``version: 1.10`` as the number 1.1; silently converting it
    would deploy the wrong version, so the user is asked to quote it.
    """
    if isinstance(value, _NUMBERS):
        if isinstance(value, bool):
            shown = "the boolean " + ("true" if value else "false")
        else:
            shown = f"the number {value!r}"
        raise PydanticCustomError("MLG207", f"expected text, got {shown}")
    return value


def _check(code: str, message: str, ok: bool, **context: Any) -> None:
    """Raise ``code`` with ``message`` formatted by Python (``{value!r}`` and ``{{`` work).

    pydantic's own templating knows neither conversions nor escaped braces, so
    the message is formatted here and handed over without a context.
    """
    if not ok:
        raise PydanticCustomError(code, message.format(**context))


def _dns_label(value: str) -> str:
    _check(
        "MLG302",
        "{value!r} is not a DNS-1123 label (lower-case letters, digits and '-', "
        "starting and ending alphanumeric, at most 63 characters)",
        _DNS_LABEL.match(value) is not None,
        value=value,
    )
    return value


def _model_name(value: str) -> str:
    _check(
        "MLG302",
        "{value!r} is not a valid model name: it names Services and InferenceServices, so it "
        "must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, "
        "ending alphanumeric, at most 63 characters)",
        _MODEL_NAME.match(value) is not None,
        value=value,
    )
    return value


def _quantity(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # left for the str check to refuse
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise PydanticCustomError(
                "MLG307", f"{value!r} is not a Kubernetes quantity (for example 500m, 2, 1Gi)"
            )
        value = str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        _check(
            "MLG307",
            "{value!r} is not a Kubernetes quantity (for example 500m, 2, 1Gi)",
            is_quantity(value),
            value=value,
        )
    return value


def _cron(value: str) -> str:
    problem = cron_problem(value)
    _check(
        "MLG308",
        "invalid cron expression {value!r}: {problem}",
        problem is None,
        value=value,
        problem=problem,
    )
    return value


def _duration(value: str) -> str:
    _check(
        "MLG315",
        "{value!r} is not a duration (a number with a unit ms, s, m, h, d, w or y, e.g. 30d, 250ms)",
        _DURATION.match(value) is not None and duration_seconds(value) > 0,
        value=value,
    )
    return value


def duration_seconds(value: str) -> float:
    """Seconds in a Prometheus-style duration such as ``1h30m``."""
    return sum(int(n) * _DURATION_SECONDS[unit] for n, unit in _DURATION_PART.findall(value))


def _version(value: str) -> str:
    _check(
        "MLG206",
        "{value!r} is not a usable version: letters, digits, '.', '_' and '-', at most 63 "
        "characters, starting and ending with a letter or digit",
        _VERSION.match(value) is not None,
        value=value,
    )
    return value


def _image(value: str) -> str:
    _check(
        "MLG323",
        "{value!r} is not a container image reference (registry/name:tag or name@sha256:digest)",
        _IMAGE.match(value) is not None,
        value=value,
    )
    return value


def _uri(value: str) -> str:
    parts = urlsplit(value)
    _check(
        "MLG322",
        "{value!r} is not a URI with a scheme such as s3://, gs://, https:// or pvc://",
        parts.scheme in _URI_SCHEMES and bool(parts.netloc or parts.path) and value.strip() == value,
        value=value,
    )
    return value


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ARTIFACT_PLACEHOLDERS = ("model", "version")


def _artifact(value: str) -> str:
    _fixed_artifact(value)
    _check(
        "MLG313",
        "artifact {value!r} has no {{version}} placeholder, so every version would share one location",
        "version" in _PLACEHOLDER.findall(value),
        value=value,
    )
    return value


def _fixed_artifact(value: str) -> str:
    """Where the version is already fixed (an environment's deployment, a canary), the URI may
    be literal: an artifact that names no version, e.g. a modelcar image by digest."""
    names = _PLACEHOLDER.findall(value)
    unknown = sorted(set(names) - set(ARTIFACT_PLACEHOLDERS))
    _check(
        "MLG313",
        "artifact {value!r} uses unknown placeholders {unknown}; only {{model}} and {{version}} exist",
        not unknown,
        value=value,
        unknown=", ".join("{" + n + "}" for n in unknown),
    )
    _uri(_PLACEHOLDER.sub("x", value))
    return value


def _scalar_text(value: Any) -> Any:
    """Environment values: text, integers and booleans become text; floats must be quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise PydanticCustomError(
            "MLG207", "the number {shown} would lose its spelling; quote it", {"shown": repr(value)}
        )
    return value


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        raise PydanticCustomError(
            "MLG203", "expected text, a number or a boolean, got {kind}", {"kind": _kind(value)}
        )
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    _check(
        "MLG322",
        "{value!r} is not an http(s) URL",
        parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value,
        value=value,
    )
    return value


def _git_url(value: str) -> str:
    parts = urlsplit(value)
    scp_like = re.match(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$", value) is not None
    _check(
        "MLG322",
        "{value!r} is not a git repository URL (https://…, ssh://… or git@host:path)",
        scp_like
        or (parts.scheme in ("https", "http", "ssh", "git") and bool(parts.netloc) and " " not in value),
        value=value,
    )
    return value


def _prom_selector(value: str) -> str:
    """Prometheus compiles regex matchers with Go's RE2; one it rejects stops every rule."""
    problem = selector_problem(value)
    _check("MLG209", "{problem}", problem is None, problem=problem)
    return value


def _objective(value: float) -> float:
    _check(
        "MLG309",
        "SLO objective {value:g} must lie strictly between 0 and 100 (a percentage such as 99.9)",
        0 < value < 100,
        value=value,
    )
    return value


Text = Annotated[str, BeforeValidator(_text_only)]
NonEmptyText = Annotated[str, BeforeValidator(_text_only), Field(min_length=1)]
DnsLabel = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_dns_label),
    WithJsonSchema({"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 63}),
]
ModelName = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_model_name),
    WithJsonSchema({"type": "string", "pattern": MODEL_NAME_PATTERN, "maxLength": 63}),
]
Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": QUANTITY_PATTERN},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]
Cron = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_cron),
    WithJsonSchema(
        {"type": "string", "pattern": CRON_PATTERN, "description": "five-field cron expression, UTC"}
    ),
]
Duration = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN}),
]
Version = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_version),
    WithJsonSchema({"type": "string", "pattern": VERSION_PATTERN}),
]
Image = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_image),
    WithJsonSchema({"type": "string", "pattern": IMAGE_PATTERN}),
]
Uri = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_uri),
    WithJsonSchema({"type": "string", "format": "uri"}),
]
HttpUrl = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_http_url),
    WithJsonSchema({"type": "string", "format": "uri"}),
]
GitUrl = Annotated[
    str, BeforeValidator(_text_only), AfterValidator(_git_url), WithJsonSchema({"type": "string"})
]
ArtifactUri = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_artifact),
    WithJsonSchema({"type": "string", "pattern": ".*\\{version\\}.*"}),
]
FixedArtifactUri = Annotated[
    str,
    BeforeValidator(_text_only),
    AfterValidator(_fixed_artifact),
    WithJsonSchema({"type": "string"}),
]
EnvLiteral = Annotated[
    str, BeforeValidator(_scalar_text), WithJsonSchema({"type": ["string", "integer", "boolean"]})
]
ScalarValue = Annotated[
    str | int | float | bool,
    BeforeValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]
EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]
MetricName = Annotated[str, BeforeValidator(_text_only), Field(pattern=METRIC_NAME_PATTERN)]
# metric_name{label="value", other=~"re.*"}: enough structure to catch typos, not full PromQL
PROM_SELECTOR_PATTERN = (
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{\s*([a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"([^"\\]|\\.)*"\s*,?\s*)*\})?$'
)
PromSelector = Annotated[
    str, BeforeValidator(_text_only), Field(pattern=PROM_SELECTOR_PATTERN), AfterValidator(_prom_selector)
]
LabelKey = Annotated[str, Field(pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[str, BeforeValidator(_text_only), Field(pattern=LABEL_VALUE_PATTERN)]
Objective = Annotated[
    float,
    AfterValidator(_objective),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100}),
]


def is_dns_label(value: str) -> bool:
    return _DNS_LABEL.match(value) is not None


def is_dns_subdomain(value: str) -> bool:
    """A Kubernetes object name (RFC 1123 subdomain): dot-separated DNS labels, ≤ 253 characters."""
    return len(value) <= 253 and all(is_dns_label(part) for part in value.split("."))


def is_immutable_image(image: str) -> bool:
    """Digest-pinned, or tagged with something that reads as a release version."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return re.match(r"^v?[0-9]+(\.[0-9]+)*([-_.+][A-Za-z0-9.]+)*$", tag) is not None
