"""A model's ``serving.runtime`` against the runtimes the project declares (``spec.runtimes``):
the name must be built in or declared (MLG380), and on KServe the model's protocol must be one
the declared runtime serves (MLG381), since KServe refuses an InferenceService whose
``protocolVersion`` its runtime does not list."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, did_you_mean, make
from mlgitops.resolve.layers import Merged
from mlgitops.spec.runtimes import BUILTIN_RUNTIMES, ServingRuntimeSpec

# The spec's protocols KServe names the same way (openai sets no protocolVersion).
_PROTOCOLS = frozenset({"v1", "v2", "grpc-v2"})


def defaults(runtime: ServingRuntimeSpec | None) -> tuple[str | None, int]:
    """mlgitops' default protocol and port for a model served by ``runtime``: the first
    protocol it serves that the spec can name, and its port (built-in runtimes: the usual)."""
    if runtime is None:
        return None, 8080
    protocol = next((p for p in runtime.protocol_versions or () if p in _PROTOCOLS), None)
    return protocol, runtime.port


def check(
    serving: Merged,
    env: str,
    declared: Mapping[str, ServingRuntimeSpec],
    target: str,
    fallback: Callable[[], Location],
) -> Iterator[Diagnostic]:
    name = serving.get("runtime")
    if not isinstance(name, str):
        return  # none set is MLG320's

    def at(*path: str) -> Location:
        origin = serving.origin(*path)
        location = origin.location() if origin else None
        return location or fallback()

    runtime = declared.get(name)
    if runtime is None:
        if name not in BUILTIN_RUNTIMES:
            known = [*BUILTIN_RUNTIMES, *declared]
            yield make(
                "MLG380",
                f"serving runtime {name!r} in {ENVIRONMENT} is neither built in nor declared in "
                "spec.runtimes",
                at("runtime"),
                did_you_mean(name, known)
                or f"use one of {', '.join(sorted(known))}, or declare it in spec.runtimes of mlgitops.yaml",
                environment=env,
            )
        return
    protocol = serving.get("protocol")
    served = runtime.protocol_versions
    if target == "kserve" and served and protocol in _PROTOCOLS and protocol not in served:
        yield make(
            "MLG381",
            f"protocol {protocol!r} in {ENVIRONMENT} is not among the protocolVersions of serving "
            f"runtime {name!r} ({', '.join(served)}), so KServe would refuse the InferenceService",
            at("protocol"),
            f"set protocol to one it serves, or add {protocol!r} to the runtime's protocolVersions",
            environment=env,
        )
