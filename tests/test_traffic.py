"""Traffic that git fully determines (docs/traffic.md, issue 12).

The effective weight of every version in every environment is computed from the generated
objects alone, as a cluster built from the tree would route: route → Service → workload →
the version its pods serve.  No controller state, no annotation is read.  It must equal the
spec exactly, for each shape, on both serving targets and both routers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import compile_clean, generated, run_module, yaml_documents
from mlgitops.pipeline import compile_project, validate_project

PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata: {{name: demo}}
spec:
  repository: https://github.com/acme/ml.git
  serving: {serving}
  traffic: {traffic}
  registry: {{kind: mlflow, trackingUri: https://mlflow.acme.test}}
  environments:
    - {{name: dev, namespace: ml-dev}}
    - {{name: staging, namespace: ml-staging}}
    - {{name: prod, namespace: ml-prod, approval: required}}
  defaults:
    serving: {{resources: {{cpu: 500m, memory: 1Gi}}{mode}}}
"""
MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata: {{name: iris, owner: data-science}}
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{{model}}/{{version}}/"
    autoscaling: {{minReplicas: 3, maxReplicas: 6}}
  deployments:
    dev: {dev}
    staging: {staging}
    prod: {prod}
"""
# shape → (dev, staging, prod) deployments
SHAPES = {
    "stable-only": ("{version: 1.1.0}", "{version: 1.1.0}", "{version: 1.0.0}"),
    "canary-10": (
        "{version: 1.1.0}",
        "{version: 1.0.0, canary: {version: 1.1.0, traffic: 10}}",
        "{version: 1.0.0, canary: {version: 1.1.0, traffic: 10}}",
    ),
    "canary-50": (
        "{version: 1.2.0}",
        "{version: 1.1.0, canary: {version: 1.2.0, traffic: 50}}",
        "{version: 1.0.0, canary: {version: 1.1.0, traffic: 50}}",
    ),
    # shadow traffic: copies of 20 % of the requests to 1.1.0, whose responses are discarded;
    # and the route as an entry point (host name and path)
    "mirror": (
        "{version: 1.2.0}",
        "{version: 1.1.0, mirror: {version: 1.2.0, percent: 20}, expose: {hostname: iris.acme.test}}",
        "{version: 1.0.0, canary: {version: 1.1.0, traffic: 10}, mirror: {version: 1.1.0, percent: 50},"
        " expose: {hostname: iris.acme.test, path: /iris}}",
    ),
    # deployed, reachable by its own Service, no user traffic: the pinned rollback
    "canary-0": (
        "{version: 1.1.0}",
        "{version: 1.1.0, canary: {version: 1.0.0, traffic: 0}}",
        "{version: 1.1.0, canary: {version: 1.0.0, traffic: 0}, waivePromotionOrder: true,"
        " reason: pinned rollback}",
    ),
}
ROUTERS = {
    "gateway-api": "{router: gateway-api, gateway: {name: public, namespace: gateways}}",
    "istio": "{router: istio}",
}
TARGETS = {
    "kserve-standard": ("kserve", ", deploymentMode: standard"),
    "kserve-serverless": ("kserve", ", deploymentMode: serverless"),
    "kubernetes": ("kubernetes", ""),
}


def write_project(root: Path, target: str, router: str, shape: str) -> Path:
    serving, mode = TARGETS[target]
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(
        PROJECT.format(serving=serving, traffic=ROUTERS[router], mode=mode), encoding="utf-8"
    )
    dev, staging, prod = SHAPES[shape]
    (root / "models/iris.yaml").write_text(
        MODEL.format(dev=dev, staging=staging, prod=prod), encoding="utf-8"
    )
    return root


def declared(shape: str) -> dict[str, dict[str, int]]:
    """environment → version → weight, read from the spec."""
    out = {}
    for env, text in zip(("dev", "staging", "prod"), SHAPES[shape], strict=True):
        deployment = yaml.safe_load(text)
        canary = deployment.get("canary")
        weights = {deployment["version"]: 100 - (canary["traffic"] if canary else 0)}
        if canary:
            weights[canary["version"]] = canary["traffic"]
        if "mirror" in deployment:
            weights["mirror " + deployment["mirror"]["version"]] = deployment["mirror"]["percent"]
        out[env] = weights
    return out


def route_weights(objects: list[Any]) -> Iterator[tuple[str, int]]:
    """(Service name, weight) of every backend of the one route among ``objects``, and
    ("mirror <Service name>", percent) for the mirrored one."""
    routes = [o for o in objects if o["kind"] in ("HTTPRoute", "VirtualService")]
    assert len(routes) == 1, [o["kind"] for o in objects]
    route = routes[0]
    if route["kind"] == "HTTPRoute":
        (rule,) = route["spec"]["rules"]
        for ref in rule["backendRefs"]:
            assert ref.get("kind", "Service") == "Service" and ref.get("group", "") == ""
            yield ref["name"], ref.get("weight", 1)
        for f in rule.get("filters", []):
            assert f["type"] == "RequestMirror"
            yield "mirror " + f["requestMirror"]["backendRef"]["name"], f["requestMirror"]["percent"]
    else:
        (http,) = route["spec"]["http"]
        namespace = route["metadata"]["namespace"]
        for destination in http["route"]:
            name, in_namespace = destination["destination"]["host"].split(".")[:2]
            assert in_namespace == namespace
            yield name, destination.get("weight", 100 if len(http["route"]) == 1 else 0)
        if "mirror" in http:
            name, in_namespace = http["mirror"]["host"].split(".")[:2]
            assert in_namespace == namespace
            yield "mirror " + name, http["mirrorPercentage"]["value"]


def served_version(objects: list[Any], service: str) -> str:
    """The version behind ``service``: KServe's ``<isvc>-predictor``, or our Service's pods."""
    by_kind: dict[str, dict[str, Any]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    if "InferenceService" in by_kind:
        assert service.endswith("-predictor")
        isvc = by_kind["InferenceService"][service.removesuffix("-predictor")]
        assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]
        return version_of(isvc["spec"]["predictor"]["model"]["storageUri"])
    selector = by_kind["Service"][service]["spec"]["selector"]
    matching = [
        d
        for d in by_kind["Deployment"].values()
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert len(matching) == 1, f"Service {service} selects {len(matching)} Deployments"
    (init,) = matching[0]["spec"]["template"]["spec"]["initContainers"]
    return version_of(" ".join(init.get("args", [])))


def version_of(text: str) -> str:
    """The version in an artifact URI s3://models/iris/<version>/."""
    after = text.split("s3://models/iris/", 1)[1]
    return after.split("/", 1)[0]


def effective_weights(root: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for env in ("dev", "staging", "prod"):
        objects = [d for _, d in yaml_documents(root, f"deploy/{env}/iris") if d["kind"] != "Kustomization"]
        weights: dict[str, int] = {}
        routed = list(route_weights(objects))
        total = sum(w for service, w in routed if not service.startswith("mirror "))
        for service, weight in routed:
            if service.startswith("mirror "):  # copies: their own percentage, not a share
                weights["mirror " + served_version(objects, service.removeprefix("mirror "))] = weight
                continue
            version = served_version(objects, service)
            weights[version] = weights.get(version, 0) + weight * 100 // total
        out[env] = weights
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("router", list(ROUTERS))
@pytest.mark.parametrize("target", list(TARGETS))
def test_the_effective_weights_equal_the_spec(tmp_path: Path, target: str, router: str, shape: str) -> None:
    root = compile_clean(write_project(tmp_path, target, router, shape))
    assert effective_weights(root) == declared(shape)


# --- A/B between two models, and a variant chosen by a header ------------------------------

VARIANT = """\
apiVersion: mlgitops/v1
kind: Model
metadata: {name: iris-v2, owner: data-science}
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{model}/{version}/"
  deployments:
    dev: {version: 2.0.0}
    staging: {version: 2.0.0}
    prod: {version: 2.0.0}
"""
AB = "{variants: [{model: iris, weight: %d}, {model: iris-v2, weight: %d%s}], default: iris}"
HEADER = ", match: {header: {name: x-variant, value: b}}"
# shape → (dev, staging, prod) deployments of iris, the model that owns the endpoint
EXPERIMENTS = {
    "ab": (
        "{version: 1.1.0, experiment: %s}" % (AB % (50, 50, "")),
        "{version: 1.1.0, experiment: %s}" % (AB % (70, 30, "")),
        "{version: 1.0.0, experiment: %s, expose: {hostname: iris.acme.test, path: /iris}}"
        % (AB % (90, 10, "")),
    ),
    # everyone on iris; requests with x-variant: b on iris-v2 (and in staging also 20 % of the rest)
    "header": (
        "{version: 1.1.0, experiment: %s}" % (AB % (100, 0, HEADER)),
        "{version: 1.1.0, experiment: %s}" % (AB % (80, 20, HEADER)),
        "{version: 1.0.0, experiment: %s, expose: {hostname: iris.acme.test}}" % (AB % (100, 0, HEADER)),
    ),
}
Split = dict[
    str | None, dict[str, int]
]  # request header ("x-variant: b", None for any) → "model version" → weight


def declared_split(shape: str) -> dict[str, Split]:
    stable = {
        "iris": {"dev": "1.1.0", "staging": "1.1.0", "prod": "1.0.0"},
        "iris-v2": dict.fromkeys(["dev", "staging", "prod"], "2.0.0"),
    }
    out: dict[str, Split] = {}
    for env, text in zip(("dev", "staging", "prod"), EXPERIMENTS[shape], strict=True):
        variants = yaml.safe_load(text)["experiment"]["variants"]
        split: Split = {
            None: {f"{v['model']} {stable[v['model']][env]}": v["weight"] for v in variants if v["weight"]}
        }
        for v in variants:
            if "match" in v:
                header = v["match"]["header"]
                split[f"{header['name']}: {header['value']}"] = {
                    f"{v['model']} {stable[v['model']][env]}": 100
                }
        out[env] = split
    return out


def route_rules(route: Any) -> Iterator[tuple[str | None, list[tuple[str, int]]]]:
    """(header match or None, [(Service, weight)]) of each rule of an HTTPRoute or VirtualService."""
    if route["kind"] == "HTTPRoute":
        for rule in route["spec"]["rules"]:
            headers = [h for m in rule.get("matches", []) for h in m.get("headers", [])]
            assert all(h.get("type", "Exact") == "Exact" for h in headers)
            key = ", ".join(f"{h['name']}: {h['value']}" for h in headers) or None
            yield key, [(ref["name"], ref.get("weight", 1)) for ref in rule["backendRefs"]]
    else:
        for http in route["spec"]["http"]:
            headers = [
                (name, m["exact"])
                for match in http.get("match", [])
                for name, m in match.get("headers", {}).items()
            ]
            key = ", ".join(f"{name}: {value}" for name, value in headers) or None
            yield key, [(d["destination"]["host"].split(".")[0], d.get("weight", 100)) for d in http["route"]]


def model_version(objects: list[Any], service: str) -> str:
    """ "<model> <version>" behind ``service``, from the objects of every model in the environment."""
    text = served_version_text(objects, service)
    model, version = text.split("s3://models/", 1)[1].split("/")[:2]
    return f"{model} {version}"


def served_version_text(objects: list[Any], service: str) -> str:
    by_kind: dict[str, dict[str, Any]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    if "InferenceService" in by_kind:
        return str(
            by_kind["InferenceService"][service.removesuffix("-predictor")]["spec"]["predictor"]["model"][
                "storageUri"
            ]
        )
    selector = by_kind["Service"][service]["spec"]["selector"]
    (deployment,) = [
        d
        for d in by_kind["Deployment"].values()
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    return " ".join(init.get("args", []))


def effective_split(root: Path, model: str) -> dict[str, Split]:
    """Per environment, as a cluster routes ``model``'s entry point: the first rule whose header
    matches a request takes it (the rules without a header take the rest)."""
    out: dict[str, Split] = {}
    for env in ("dev", "staging", "prod"):
        objects = [d for _, d in yaml_documents(root, f"deploy/{env}") if "metadata" in d]
        (route,) = [
            o
            for o in objects
            if o["kind"] in ("HTTPRoute", "VirtualService") and o["metadata"]["name"] == model
        ]
        split: Split = {}
        for header, refs in route_rules(route):
            if header in split:
                continue  # shadowed by an earlier rule
            total = sum(w for _, w in refs)
            weights: dict[str, int] = {}
            for service, weight in refs:
                if weight:
                    key = model_version(objects, service)
                    weights[key] = weights.get(key, 0) + weight * 100 // total
            split[header] = weights
        out[env] = split
    return out


@pytest.mark.parametrize("shape", list(EXPERIMENTS))
@pytest.mark.parametrize("router", list(ROUTERS))
@pytest.mark.parametrize("target", ["kserve-standard", "kubernetes"])
def test_experiments_route_exactly_as_declared(tmp_path: Path, target: str, router: str, shape: str) -> None:
    write_project(tmp_path, target, router, "stable-only")
    dev, staging, prod = EXPERIMENTS[shape]
    (tmp_path / "models/iris.yaml").write_text(
        MODEL.format(dev=dev, staging=staging, prod=prod), encoding="utf-8"
    )
    (tmp_path / "models/iris-v2.yaml").write_text(VARIANT, encoding="utf-8")
    root = compile_clean(tmp_path)
    assert effective_split(root, "iris") == declared_split(shape)


def test_experiments_need_a_route_and_variants_deployed_here(tmp_path: Path) -> None:
    write_project(tmp_path, "kserve-serverless", "istio", "stable-only")
    project = tmp_path / "mlgitops.yaml"
    project.write_text(
        project.read_text(encoding="utf-8").replace("{router: istio}", "{router: kserve-native}")
    )
    experiment = AB % (60, 30, "")
    model = MODEL.format(
        dev="{version: 1.1.0}",
        staging="{version: 1.1.0}",
        prod="{version: 1.0.0, experiment: " + experiment + "}",
    )
    (tmp_path / "models/iris.yaml").write_text(model, encoding="utf-8")
    (tmp_path / "models/iris-v2.yaml").write_text(
        VARIANT.replace("    prod: {version: 2.0.0}\n", ""), encoding="utf-8"
    )
    found = [(d.code, d.message) for d in validate_project(tmp_path).diagnostics]
    assert found == [
        ("MLG343", "experiment needs a route, which router kserve-native renders"),
        ("MLG345", "the variants' weights in 'prod' sum to 90, not 100"),
        ("MLG345", "variant 'iris-v2' is not deployed in 'prod'"),
    ]


# --- promotion sequences ----------------------------------------------------------------------


def cli(root: Path, *args: str) -> str:
    run = run_module([*args, "--project", str(root)] if args[0] == "promote" else [*args, str(root)])
    assert run.returncode == 0, f"mlgitops {' '.join(args)}:\n{run.stdout}{run.stderr}"
    return run.stdout


def step(root: Path, *promote: str) -> tuple[set[str], set[str], set[str]]:
    """Promote, compile and check; (added, removed, changed) generated files under deploy/prod/iris."""
    before = {p: b for p, b in generated(root).items() if p.startswith("deploy/prod/iris/")}
    cli(root, "promote", "iris", "--to", "prod", *promote)
    cli(root, "compile")
    cli(root, "check")
    after = {p: b for p, b in generated(root).items() if p.startswith("deploy/prod/iris/")}
    changed = {p for p in before.keys() & after.keys() if before[p] != after[p]}
    return after.keys() - before.keys(), before.keys() - after.keys(), changed


MODEL_KUSTOMIZATION = "deploy/prod/iris/kustomization.yaml"


def workload_files(target: str, version: str) -> set[str]:
    name = f"iris-{version.replace('.', '-')}"
    kinds = ("deployment", "service", "hpa") if target == "kubernetes" else ("inferenceservice",)
    return {f"deploy/prod/iris/{kind}-{name}.yaml" for kind in kinds}


@pytest.mark.parametrize("router", list(ROUTERS))
@pytest.mark.parametrize("target", ["kserve-standard", "kubernetes"])
def test_canary_10_then_50_then_finish_prunes_exactly_the_old_workload(
    tmp_path: Path, target: str, router: str
) -> None:
    root = compile_clean(write_project(tmp_path, target, router, "stable-only"))
    route = {
        "gateway-api": "deploy/prod/iris/httproute.yaml",
        "istio": "deploy/prod/iris/virtualservice.yaml",
    }
    added, removed, changed = step(root, "--canary", "10")
    # the model's kustomization lists its files: it changes with them
    assert (added, removed, changed) == (
        workload_files(target, "1.1.0"),
        set(),
        {route[router], MODEL_KUSTOMIZATION},
    )
    assert effective_weights(root)["prod"] == {"1.0.0": 90, "1.1.0": 10}
    # moving the weight touches the route alone: no workload, no pod changes
    assert step(root, "--weight", "50") == (set(), set(), {route[router]})
    assert effective_weights(root)["prod"] == {"1.0.0": 50, "1.1.0": 50}
    added, removed, changed = step(root, "--finish-canary")
    assert (added, removed, changed) == (
        set(),
        workload_files(target, "1.0.0"),
        {route[router], MODEL_KUSTOMIZATION},
    )
    assert effective_weights(root)["prod"] == {"1.1.0": 100}


@pytest.mark.parametrize("router", list(ROUTERS))
@pytest.mark.parametrize("target", ["kserve-standard", "kubernetes"])
def test_canary_then_abort_prunes_exactly_the_canary(tmp_path: Path, target: str, router: str) -> None:
    root = compile_clean(write_project(tmp_path, target, router, "stable-only"))
    start = {p: b for p, b in generated(root).items() if p.startswith("deploy/")}
    step(root, "--canary", "10")
    added, removed, _ = step(root, "--abort-canary")
    assert (added, removed) == (set(), workload_files(target, "1.1.0"))
    assert {p: b for p, b in generated(root).items() if p.startswith("deploy/")} == start
    assert effective_weights(root)["prod"] == {"1.0.0": 100}


# --- safety rules ------------------------------------------------------------------------------


def test_a_model_deleted_while_deployed_is_refused_until_retired(tmp_path: Path) -> None:
    root = compile_clean(write_project(tmp_path, "kubernetes", "istio", "canary-10"))
    spec = (root / "models/iris.yaml").read_text(encoding="utf-8")
    (root / "models/iris.yaml").unlink()
    (root / "models/other.yaml").write_text(spec.replace("name: iris", "name: other"), encoding="utf-8")
    result = compile_project(root, use_cache=False)
    assert [(d.code, d.message) for d in result.diagnostics] == [
        (
            "MLG517",
            "model 'iris' is deployed in dev, staging, prod (the last compile's manifest) but its "
            "spec is gone",
        )
    ]
    assert (root / "deploy/prod/iris/virtualservice.yaml").is_file(), "nothing was pruned"
    # retired first, then deleted: accepted
    retired = spec.split("  deployments:")[0] + "  lifecycle: {stage: retired}\n"
    (root / "models/iris.yaml").write_text(retired, encoding="utf-8")
    compile_clean(root)
    assert not (root / "deploy/prod/iris").exists()
    (root / "models/iris.yaml").unlink()
    compile_clean(root)


def test_mutable_versions_are_refused_where_approval_is_required_by_default(tmp_path: Path) -> None:
    write_project(tmp_path, "kubernetes", "istio", "stable-only")
    model = tmp_path / "models/iris.yaml"
    model.write_text(
        model.read_text(encoding="utf-8").replace(
            "prod: {version: 1.0.0}", "prod: {version: latest, waivePromotionOrder: true, reason: test}"
        ),
        encoding="utf-8",
    )
    found = [
        (d.code, d.location.line if d.location else None) for d in validate_project(tmp_path).diagnostics
    ]
    assert found == [("MLG407", 12)]


def test_a_deprecated_model_takes_no_new_version(tmp_path: Path) -> None:
    write_project(tmp_path, "kubernetes", "istio", "stable-only")
    model = tmp_path / "models/iris.yaml"
    model.write_text(
        model.read_text(encoding="utf-8") + "  lifecycle: {stage: deprecated}\n", encoding="utf-8"
    )
    run = run_module(
        ["promote", "iris", "--to", "prod", "--version", "2.0.0", "--force", "--project", str(tmp_path)]
    )
    assert run.returncode == 1
    assert "iris is deprecated: it takes no new version (2.0.0 is served nowhere)" in run.stderr
    # 1.1.0 is served in staging: moving it on is allowed
    cli(tmp_path, "promote", "iris", "--to", "prod")
    assert "prod: {version: 1.1.0}" in model.read_text(encoding="utf-8")


def test_force_adds_a_waiver_only_when_a_version_moves_in(tmp_path: Path) -> None:
    write_project(tmp_path, "kubernetes", "istio", "canary-10")
    model = tmp_path / "models/iris.yaml"
    before = model.read_text(encoding="utf-8")
    # the version prod already serves as its canary: nothing to waive
    cli(tmp_path, "promote", "iris", "--to", "prod", "--weight", "50", "--force")
    cli(tmp_path, "promote", "iris", "--to", "prod", "--version", "1.1.0", "--canary", "60", "--force")
    after = model.read_text(encoding="utf-8")
    assert "waivePromotionOrder" not in after
    assert after == before.replace(
        "prod: {version: 1.0.0, canary: {version: 1.1.0, traffic: 10}}",
        "prod: {version: 1.0.0, canary: {version: 1.1.0, traffic: 60}}",
    )
    # a version prod never served, past the order: waived
    # prod requires approval: the waiver must say why
    refused = run_module(
        ["promote", "iris", "--to", "prod", "--version", "1.2.0", "--force", "--project", str(tmp_path)]
    )
    assert refused.returncode == 1
    assert "gives no reason" in refused.stderr
    cli(tmp_path, "promote", "iris", "--to", "prod", "--version", "1.2.0", "--force", "--reason", "CVE fix")
    assert 'waivePromotionOrder: true, reason: "CVE fix"}' in model.read_text(encoding="utf-8")


# --- what an environment served before, from git ----------------------------------------------


def git(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        check=True,
        capture_output=True,
    )


def test_history_decides_which_older_versions_an_approval_environment_may_take(tmp_path: Path) -> None:
    from mlgitops.gitsource import SpecHistory

    write_project(tmp_path, "kubernetes", "istio", "stable-only")  # prod 1.0.0, staging 1.1.0
    model = tmp_path / "models/iris.yaml"
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "prod on 1.0.0")
    model.write_text(
        model.read_text(encoding="utf-8").replace("prod: {version: 1.0.0}", "prod: {version: 1.1.0}")
    )
    git(tmp_path, "commit", "-qam", "prod on 1.1.0")

    def found(prod: str, *, with_history: bool) -> list[tuple[str, str]]:
        head, _, rest = model.read_text(encoding="utf-8").partition("    prod: ")
        model.write_text(head + "    prod: " + prod + "\n" + rest.split("\n", 1)[1], encoding="utf-8")
        history = SpecHistory.at(tmp_path, "HEAD") if with_history else None
        return [(d.code, d.message) for d in validate_project(tmp_path, history=history).diagnostics]

    # a rollback to what prod served two commits ago: allowed, and exactly so with the history
    assert found("{version: 1.0.0}", with_history=True) == []
    # older than staging's, never served in prod: only the history can tell
    assert found("{version: 0.9.0}", with_history=False) == []
    assert found("{version: 0.9.0}", with_history=True) == [
        (
            "MLG306",
            "version '0.9.0' in 'prod' has not been deployed to 'staging', the previous environment "
            "(it serves 1.1.0), and the spec's git history shows 'prod' never served it",
        )
    ]
    # a deprecated model: 1.0.0 and 1.1.0 were served, 1.2.0 never was
    model.write_text(
        model.read_text(encoding="utf-8") + "  lifecycle: {stage: deprecated}\n", encoding="utf-8"
    )
    assert found("{version: 1.0.0}", with_history=True) == []
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("dev: {version: 1.1.0}", "dev: {version: 1.2.0}"), encoding="utf-8")
    assert [code for code, _ in found("{version: 1.0.0}", with_history=True)] == ["MLG344"]
    assert found("{version: 1.0.0}", with_history=False) == []  # a stable version: only git knows
