"""Write a synthetic, valid mlgitops project of N models x dev/staging/prod.

Usage: python benchmarks/generate.py N OUTDIR [--serving-only]

Every model i is derived from i alone (no randomness), so the same N always gives
the same bytes. The features rotate with i so that each appears often at large N,
and all of them appear once N >= 9; see benchmarks/README.md.  ``--serving-only`` leaves
out training, evaluation and monitoring (and the policies that demand them): what
compile generated when issue 3 set its speed target (serving and GitOps files).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml

ENVIRONMENTS = ("dev", "staging", "prod")
# Ordered so that the first five models already cover GPU, custom and transformer.
RUNTIMES = (
    "sklearn",
    "huggingface",
    "custom",
    "xgboost",
    "pytorch",
    "lightgbm",
    "triton",
    "tensorflow",
    "onnx",
)
GPU_RUNTIMES = frozenset({"huggingface", "pytorch", "triton"})
# KServe "standard" mode (Deployment + HPA) for these, with the HPA metric; the others run serverless.
STANDARD_METRICS = {"xgboost": "cpu", "lightgbm": "memory", "onnx": "custom"}
TEAMS = ("risk", "growth", "search", "support", "vision", "pricing", "forecasting")
MARKER = ".mlgitops-synthetic"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
SPOT_TOLERATIONS = [
    {
        "key": "acme.com/spot",
        "operator": "Equal",
        "value": "true",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {"key": "acme.com/preemptible", "operator": "Exists", "effect": "PreferNoSchedule"},
]
Spec = dict[str, Any]


def model_name(i: int) -> str:
    return f"{TEAMS[i % len(TEAMS)]}-model-{i:04d}"


def image(repository: str, tag: str, i: int) -> str:
    """A pinned image: a release tag, or (every fourth model) a digest."""
    if i % 4 == 3:
        return f"ghcr.io/acme/{repository}@sha256:{hashlib.sha256(repository.encode()).hexdigest()}"
    return f"ghcr.io/acme/{repository}:{tag}"


def project(n: int, serving_only: bool = False) -> Spec:
    spec = _project(n)
    if serving_only:
        policies = spec["spec"]["policies"]
        del policies["requireEvaluationGate"], policies["requireSLO"]
    return spec


def _project(n: int) -> Spec:
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Project",
        "metadata": {
            "name": f"synthetic-{n}",
            "description": f"Synthetic benchmark project: {n} models x 3 environments.",
            "labels": {"generated-by": "mlgitops-benchmarks"},
        },
        "spec": {
            "repository": "https://github.com/acme/ml-synthetic.git",
            "revision": "main",
            "repositoryRoot": ".",  # a repository of its own wherever it is generated
            # CI installs mlgitops from a pinned commit (there is no release to pin by hash yet)
            "ci": {
                "system": "github",
                "mlgitops": {
                    "git": "https://github.com/acme/mlgitops.git",
                    "commit": "0123456789abcdef0123456789abcdef01234567",
                },
                # OIDC logins for the artifact stores the register jobs upload to
                "cloud": {
                    "aws": {"roleArn": "arn:aws:iam::123456789012:role/ml-uploader", "region": "eu-west-1"},
                    "gcp": {
                        "workloadIdentityProvider": "projects/42/locations/global/"
                        "workloadIdentityPools/ci/providers/github",
                        "serviceAccount": "uploader@acme-ml.iam.gserviceaccount.com",
                    },
                    "azure": {
                        "clientIdVar": "AZURE_CLIENT_ID",
                        "tenantIdVar": "AZURE_TENANT_ID",
                        "subscriptionIdVar": "AZURE_SUBSCRIPTION_ID",
                        "storageAccountVar": "AZURE_STORAGE_ACCOUNT",
                    },
                },
                # promotion pull requests opened by an App, so that their CI runs
                "github": {"token": {"app": {"idVar": "PROMOTER_APP_ID", "keySecret": "PROMOTER_APP_KEY"}}},
                "tests": [
                    {
                        "name": "features",
                        "image": "python:3.12.8-slim",
                        "command": ["python", "-m", "pytest", "features/"],
                        "paths": ["features/**"],
                    }
                ],
            },
            "gitops": "argocd",
            "serving": "kserve",
            # One generic dashboard pair per project; per-model dashboards would add a file per model.
            "grafana": {"perModelDashboards": False},
            # The defaults, spelled out: PrometheusRule objects. `files` (rule files and their
            # promtool tests instead) would change what the benchmark measures.
            "prometheus": {"format": "operator", "apiGroup": "monitoring.coreos.com"},
            "registry": {
                "kind": "mlflow",
                "trackingUri": "https://mlflow.acme.internal",
                "credentials": {"fromCiSecret": "MLFLOW_TRACKING_TOKEN"},
            },
            "environments": [
                {
                    "name": "dev",
                    "namespace": "ml-dev",
                    "serving": {"autoscaling": {"maxReplicas": 2}, "annotations": {"acme.com/tier": "dev"}},
                    # dev's fast burns open tickets: nobody is woken for dev
                    "monitoring": {"page": False},
                    # the jobs acting for dev (train, evaluate, register) read the tracking
                    # token from a secret of dev's own name
                    "ciSecrets": {"MLFLOW_TRACKING_TOKEN": "MLFLOW_TRACKING_TOKEN_DEV"},
                },
                {
                    "name": "staging",
                    "namespace": "ml-staging",
                    "cluster": "nonprod",
                    "approval": "none",
                    "gitops": {"syncPolicy": "automated"},
                },
                {
                    "name": "prod",
                    "namespace": "ml-prod",
                    "cluster": "https://prod.k8s.acme.internal:6443",
                    "approval": "required",
                    # prod follows a release branch and is synced by hand
                    "gitops": {"revision": "release", "syncPolicy": "manual"},
                    "serving": {
                        "autoscaling": {"minReplicas": 2, "maxReplicas": 6},
                        "nodeSelector": {"acme.com/node-pool": "serving"},
                    },
                },
            ],
            "include": ["models/**/*.yaml"],
            # Declared serving runtimes (spec.runtimes): the TensorFlow models run on their own.
            "runtimes": DECLARED_RUNTIMES,
            # Canaries split by an HTTPRoute: exact, and reproducible from git (docs/traffic.md).
            "traffic": {"router": "gateway-api", "gateway": {"name": "public", "namespace": "gateways"}},
            "policies": {
                "requireEvaluationGate": ["staging", "prod"],
                "requireSLO": ["prod"],
                "forbidMutableImageTags": ["staging", "prod"],
                "requireApproval": ["prod"],
                "forbidSecurityRelaxations": ["prod"],
                "forbidMutableVersions": ["staging", "prod"],
            },
            "defaults": {
                "serving": {
                    "resources": {"cpu": "500m", "memory": "1Gi"},
                    "autoscaling": {"minReplicas": 1, "maxReplicas": 3},
                    "serviceAccount": "model-reader",
                    "deploymentMode": "serverless",
                    "annotations": {"acme.com/managed-by": "mlgitops"},
                }
            },
            "output": {"path": "deploy"},
            "argocd": {
                "namespace": "argocd",
                "project": "ml-models",
                "applicationSet": False,
                "applicationName": "ml-{project}-{environment}",
                "syncWaves": True,
            },
            # Not used with Argo CD; spelled out so that every field appears (tests/test_generate.py).
            "flux": {
                "namespace": "flux-system",
                "interval": "5m",
                "retryInterval": "1m",
                "timeout": "10m",
                "prune": True,
                "dependsOn": ["kserve"],
            },
        },
    }


def training(i: int, name: str, team: str, gpu: bool) -> Spec:
    spec: Spec = {
        "image": image(f"{team}-train", f"{1 + i % 3}.{i % 10}.0", i),
        "command": ["python", "-m", f"{team.replace('-', '_')}.train"],
        "args": ["--model", name],
        "params": {"learning_rate": 0.05, "max_depth": 4 + i % 5, "early_stopping": True, "objective": "auc"},
        "env": {
            "LOG_LEVEL": "info",
            "MLFLOW_TRACKING_TOKEN": {"fromCiSecret": "MLFLOW_TRACKING_TOKEN"},
        },
        "resources": {"cpu": "4", "memory": "16Gi"},
        "timeoutMinutes": 60 + 30 * (i % 4),
        "paths": [f"src/{team}/"],  # not the spec: promotions edit it (MLG336)
    }
    if i % 2 == 0:
        spec["schedule"] = f"{i % 60} {i % 24} * * {i % 7}"
    if gpu:
        # GPU training runs as a Kubernetes Job on the GPU pool.
        spec["resources"] = {"cpu": "8", "memory": "64Gi", "gpu": 1 + i % 2}
        spec["runner"] = "kubernetes"
        spec["env"]["HF_TOKEN"] = {"fromSecret": {"name": "huggingface", "key": "token"}}
        spec["serviceAccount"] = "model-trainer"
        spec["nodeSelector"] = {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
        spec["tolerations"] = [GPU_TOLERATION]
        spec["securityContext"] = {"writablePaths": ["/scratch"]}
        engine = {1: "pytorchjob", 4: "ray", 6: "pytorch"}.get(i % 9)
        if engine is not None and i % 18 < 9:  # the others train on one node (a Job)
            # Across several GPU nodes, on the engine the team runs (docs/ci.md).
            spec["distributed"] = {
                "engine": engine,
                "workers": 2 + i % 3,
                "gpusPerWorker": spec["resources"]["gpu"],
            }
            spec.pop("schedule", None)  # retrained by drift and by hand: CI would run it (MLG391)
    else:
        spec["runner"] = "ci"
    return spec


def evaluation(i: int, team: str) -> Spec:
    spec: Spec = {
        "gates": [
            {"metric": "auc", "min": 0.8},
            {"metric": "latency_p95_ms", "max": 50 + 10 * (i % 5)},
            {"metric": "calibration_error", "min": 0, "max": 0.05},
        ],
        "command": ["python", "-m", f"{team}.evaluate"],
    }
    if i % 3 == 1:
        spec["image"] = image(f"{team}-eval", f"0.{i % 9}.1", i)
        spec["metricsFile"] = "reports/metrics.json"
    return spec


DECLARED_RUNTIMES = [
    {
        "name": "tf-serving",
        "kind": "ServingRuntime",
        "image": "tensorflow/serving:2.14.1",
        "args": ["--model_name={{.Name}}", "--model_base_path=/mnt/models", "--rest_api_port=8080"],
        "protocolVersions": ["v1", "v2"],
        "supportedModelFormats": [{"name": "tensorflow", "version": "2", "autoSelect": True, "priority": 1}],
        "annotations": {"prometheus.kserve.io/port": "8080"},
        "resources": {"limits": {"cpu": "2", "memory": "4Gi"}},
    },
    {
        "name": "mlserver-shared",
        "kind": "ClusterServingRuntime",
        "image": "docker.io/seldonio/mlserver@sha256:" + hashlib.sha256(b"mlserver").hexdigest(),
        "protocolVersions": ["grpc-v1", "grpc-v2"],
        "supportedModelFormats": [{"name": "sklearn"}],
        "port": 8081,
    },
]


def serving(i: int, name: str, runtime: str) -> Spec:
    standard = runtime in STANDARD_METRICS
    folder = "{model}" if i % 2 else name  # the {model} placeholder, or the name spelled out
    spec: Spec = {
        "runtime": runtime,
        "artifact": f"s3://acme-models/{folder}/{{version}}/",
        "protocol": "v2" if i % 2 else "v1",
        "deploymentMode": "standard" if standard else "serverless",
    }
    if standard:
        metric = STANDARD_METRICS[runtime]
        spec["autoscaling"] = {"minReplicas": 1, "maxReplicas": 5, "metric": metric, "target": 70}
        if metric == "custom":
            spec["autoscaling"] |= {
                "target": 100,
                "customMetric": "inference_queue_depth",
                "prometheusUrl": "http://prometheus-operated.monitoring.svc:9090",
            }
        spec["runtimeVersion"] = "v0.14.1"
    else:
        metric = "rps" if i % 5 == 0 else "concurrency"
        spec["autoscaling"] = {"minReplicas": 1, "maxReplicas": 4, "metric": metric, "target": 20}
    if runtime == "custom":
        spec |= {
            "image": image(f"{name}-server", f"1.{i % 7}.0", i),
            "port": 9000,
            "command": ["python", "-m", "server"],
            "args": ["--port=9000", f"--model-name={name}"],
            "env": {
                "LOG_LEVEL": "info",
                "FEATURE_STORE_TOKEN": {"fromSecret": {"name": "feature-store", "key": "token"}},
            },
        }
    if runtime == "onnx":
        spec["image"] = image("onnx-server", "1.19.2", i)
    if runtime == "triton":
        spec["protocol"] = "grpc-v2"
    if runtime in GPU_RUNTIMES:
        spec["resources"] = {"cpu": "4", "memory": "24Gi", "gpu": 1, "limits": {"cpu": "8", "memory": "32Gi"}}
        if runtime == "triton":
            spec["resources"]["gpuResource"] = "nvidia.com/mig-1g.10gb"
        spec["nodeSelector"] = {"nvidia.com/gpu.product": "NVIDIA-L4"}
        spec["tolerations"] = [GPU_TOLERATION]
        spec["serviceAccount"] = "gpu-model-reader"
    elif i % 6 == 5:
        spec["tolerations"] = SPOT_TOLERATIONS
    if runtime == "huggingface":
        spec |= {
            "protocol": "openai",
            "args": ["--backend=vllm", "--max_model_len=4096"],
            "env": {
                "HF_TOKEN": {"fromSecret": {"name": "huggingface", "key": "token"}},
                "HF_HUB_OFFLINE": "1",
            },
        }
    if runtime in ("huggingface", "tensorflow") or i % 11 == 5:
        spec["transformer"] = {
            "image": image("feature-transformer", "2.0.3", i),
            "command": ["python", "-m", "transformer"],
            "args": [f"--predictor={name}"],
            "env": {"FEATURE_STORE_TOKEN": {"fromSecret": {"name": "feature-store", "key": "token"}}},
            "resources": {"cpu": "250m", "memory": "256Mi"},
        }
    if runtime == "onnx":  # scaled by KEDA on its queue: its transformer on a Prometheus query
        spec["transformer"] = {
            "image": image("feature-transformer", "2.0.3", i),
            "autoscaling": {
                "minReplicas": 1,
                "maxReplicas": 3,
                "metric": "prometheus",
                "query": f'sum(rate(transformer_requests_total{{model="{name}"}}[1m]))',
                "serverAddress": "http://prometheus-operated.monitoring.svc:9090",
                "authenticationRef": "prometheus-auth",
                "target": 50,
            },
        }
    if i % 4 == 2:
        spec["annotations"] = {"acme.com/cost-center": f"cc-{i % 17}"}
    spec |= pod_knobs(i, name, runtime)
    if runtime == "tensorflow":
        spec["runtime"] = "tf-serving"
    return spec


# Kubernetes' own operators, each used by some model (the schema's every value appears).
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def pod_knobs(i: int, name: str, runtime: str) -> Spec:
    """Probes, scheduling, volumes and the native resource form, spread over the models."""
    spec: Spec = {"probes": {"startup": {"failureThreshold": 60 + i % 30, "periodSeconds": 10}}}
    node_op, label_op = NODE_OPERATORS[i % 6], LABEL_OPERATORS[i % 4]
    node_values = {"In": ["a", "b"], "NotIn": ["c"], "Gt": ["2"], "Lt": ["9"]}.get(node_op)
    label_values = {"In": [name], "NotIn": ["other"]}.get(label_op)
    spec["affinity"] = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 1 + i % 100,
                    "preference": {
                        "matchExpressions": [{"key": "acme.com/zone-rank", "operator": node_op}]
                        if node_values is None
                        else [{"key": "acme.com/zone-rank", "operator": node_op, "values": node_values}],
                        "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-0"]}],
                    },
                }
            ],
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
                ]
            },
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 50,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": label_op}]
                            if label_values is None
                            else [
                                {
                                    "key": "app.kubernetes.io/name",
                                    "operator": label_op,
                                    "values": label_values,
                                }
                            ]
                        },
                        "topologyKey": "kubernetes.io/hostname",
                        "matchLabelKeys": ["pod-template-hash"],
                    },
                }
            ]
        },
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"acme.com/cache": "feature-store"}},
                    "namespaces": ["feature-store"],
                    "namespaceSelector": {"matchLabels": {"acme.com/tier": "data"}},
                    "topologyKey": "topology.kubernetes.io/zone",
                    "mismatchLabelKeys": ["acme.com/tenant"],
                }
            ]
        },
    }
    spec["topologySpreadConstraints"] = [
        {
            "maxSkew": 1 + i % 2,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule" if i % 2 else "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "nodeAffinityPolicy": "Honor" if i % 2 else "Ignore",
            "nodeTaintsPolicy": "Ignore" if i % 2 else "Honor",
            "matchLabelKeys": ["pod-template-hash"],
            **({"minDomains": 2} if i % 2 else {}),
        }
    ]
    if i % 3 == 0:
        spec["priorityClassName"] = "ml-serving"
    if runtime in GPU_RUNTIMES:
        spec["sharedMemory"] = "2Gi"
        spec["volumes"] = [
            {"name": "model-cache", "mountPath": "/mnt/cache", "persistentVolumeClaim": "model-cache"},
            {"name": "serving-config", "mountPath": "/etc/serving", "configMap": "serving-config"},
            {"name": "tls", "mountPath": "/etc/tls", "secret": "serving-tls", "readOnly": True},
        ]
    if runtime in STANDARD_METRICS:
        spec["rollout"] = {"maxSurge": "25%", "maxUnavailable": i % 2}
        protocol = {"xgboost": "TCP", "lightgbm": "UDP"}.get(runtime, "SCTP")
        spec["ports"] = [
            {"name": "grpc", "port": 8001},
            {"name": "stats", "port": 9102, "protocol": protocol},
        ]
        spec["probes"]["readiness"] = {"path": "/v2/health/ready", "port": 8080, "initialDelaySeconds": 5}
        spec["probes"]["liveness"] = {"path": "/v2/health/live", "failureThreshold": 5}
        spec["resources"] = {
            "requests": {"cpu": "1", "memory": "2Gi", "ephemeral-storage": "10Gi"},
            "limits": {"memory": "4Gi", "cpu": None},
        }
    return spec


def deployments(i: int, runtime: str) -> Spec:
    minor = 1 + i % 7
    new, old = f"1.{minor}.0", f"1.{minor - 1}.{i % 3}"
    dev: Spec = {"version": new, "env": {"LOG_LEVEL": "debug"}}
    if runtime == "huggingface":
        # A Hugging Face image writes its cache and runs as its own user: relaxed in dev only,
        # which the policy forbidSecurityRelaxations: [prod] allows.
        dev["securityContext"] = {
            "runAsUser": 1001,
            "runAsGroup": 1001,
            "fsGroup": 1001,
            "readOnlyRootFilesystem": False,
            "writablePaths": ["/home/app/.cache"],
        }
        dev["volumes"] = [
            {
                "name": "datasets",
                "mountPath": "/data",
                "nfs": {"server": "nfs.acme.internal", "path": "/exports/datasets"},
            }
        ]
    if runtime not in STANDARD_METRICS and i % 4 == 1:
        dev["autoscaling"] = {"minReplicas": 0, "maxReplicas": 1, "scaleToZero": True}
    prod: Spec = {"version": old, "autoscaling": {"minReplicas": 2, "maxReplicas": 8 + i % 5}}
    if i % 3 == 0:
        prod["canary"] = {"version": new, "traffic": 10 * (1 + i % 4)}
    if i % 6 == 0:
        # Blue/green: the new version on a new node pool, with more memory and a newer server.
        prod["canary"].update(
            nodeSelector={"acme.com/node-pool": "serving-v2"},
            resources={"cpu": "2", "memory": "4Gi"},
            env={"CANARY": "true"},
            runtimeVersion="1.14.0",
            artifact="s3://acme-models/{model}/{version}/model/",
            image=image("model-server", "2.0.0", i),
        )
    if i % 5 == 1:
        prod["mirror"] = {"version": new, "percent": 5}
    prod["expose"] = {"hostname": f"m{i:04d}.ml.acme.com", "path": f"/models/{i:04d}"}
    if i % 9 == 7 and i > 0:
        # A/B against the previous model behind this one's host name; testers pick it by header.
        prod["experiment"] = {
            "variants": [
                {"model": model_name(i), "weight": 80},
                {
                    "model": model_name(i - 1),
                    "weight": 20,
                    "match": {"header": {"name": "x-variant", "value": "b"}},
                },
            ],
            "default": model_name(i),
        }
    if i % 9 == 8:
        # A hotfix that has not gone through staging.
        prod["version"] = f"1.{minor}.1"
        prod["waivePromotionOrder"] = True
        prod["reason"] = f"hotfix 1.{minor}.1 for a production incident, staging follows"
    if i % 2 == 0 and runtime not in GPU_RUNTIMES:
        prod["resources"] = {"cpu": "1", "memory": "2Gi"}
    if runtime in GPU_RUNTIMES:
        prod["nodeSelector"] = {"acme.com/node-pool": "gpu-serving"}
    return {"dev": dev, "staging": {"version": new}, "prod": prod}


def monitoring(i: int, name: str, team: str, runtime: str) -> Spec:
    window = ("30d", "28d", "7d")[i % 3]
    spec: Spec = {
        "slos": {"availability": {"objective": (99, 99.5, 99.9, 99.95)[i % 4], "window": window}},
        "alerts": {"route": f"{team}-oncall"},
    }
    if i % 3 != 1 or runtime == "huggingface":
        threshold = "2s" if runtime == "huggingface" else f"{100 + 50 * (i % 5)}ms"
        spec["slos"]["latency"] = {"objective": 99 if i % 2 else 95, "threshold": threshold, "window": window}
    if i % 5 != 4:
        spec["alerts"]["runbookUrl"] = f"https://runbooks.acme.internal/ml/{name}"
    if i % 2 == 0:
        spec["drift"] = {
            "features": ["amount", "country", f"feature_{i % 13}"],
            "method": "ks" if i % 4 == 2 else "psi",
            "threshold": 0.1 if i % 4 == 2 else 0.2,
            "schedule": f"{i % 60} * * * *",
            "reference": "reference" if i % 3 == 0 else "events",
            "retrain": i % 4 == 0,
        }
        if i % 4 == 0:  # where the KServe payload logger writes the live inputs
            spec["drift"]["current"] = f"s3://acme-inference-logs/{name}/{{environment}}/{{date}}/"
        if i % 4 == 0:
            spec["drift"]["retrainToken"] = {"name": "mlgitops-retrain", "key": "token"}
        # The drift checker built from drift/ and pushed to the team's registry, pinned (MLG405).
        digest = hashlib.sha256(f"drift-check-{i % 6 == 0}".encode()).hexdigest()
        spec["drift"]["image"] = f"ghcr.io/acme/drift-check:0.4.0@sha256:{digest}"
    if i % 10 == 7:
        spec["metrics"] = {
            "requests": f'http_requests_total{{service="{name}"}}',
            "errors": f'http_requests_total{{service="{name}", code=~"5.."}}',
            "latency": f'http_request_duration_seconds_bucket{{service="{name}"}}',
            "latencyUnit": "seconds",
        }
    if i % 10 == 8:
        spec["metrics"] = {"latency": "request_latency_ms_bucket", "latencyUnit": "milliseconds"}
    if i % 10 == 5:  # availability as good / all requests
        spec["metrics"] = {
            "requests": f'http_requests_total{{service="{name}"}}',
            "good": f'http_requests_total{{service="{name}", code!~"5.."}}',
        }
    if i % 10 == 4:  # time-based availability from a blackbox probe
        spec["metrics"] = {"gauge": f'probe_success{{instance="https://{name}.ml.acme.internal"}}'}
    spec["slos"] |= slo_alerting(i, team, spec["slos"])
    if runtime in STANDARD_METRICS:  # the extra `stats` port serving() gives these
        spec["scrape"] = {"port": "stats", "path": "/stats"}
    if runtime == "onnx" and "latency" in spec["slos"] and "latency" not in spec.get("metrics", {}):
        # Triton serves onnx (standard mode here) and exports no latency histogram (MLG335):
        # the latency SLO times requests at the ingress.
        spec.setdefault("metrics", {})["latency"] = (
            f'nginx_ingress_controller_request_duration_seconds_bucket{{ingress="{name}"}}'
        )
    return spec


def slo_alerting(i: int, team: str, slos: Spec) -> Spec:
    """The burn-rate alerts of some SLOs, as their users write them (the others keep the defaults)."""
    out: Spec = {}
    if i % 4 == 0:
        out["availability"] = slos["availability"] | {
            "alerting": {
                "name": f"{team.capitalize()}ModelUnavailable",
                "labels": {"component": "serving"},
                "annotations": {"dashboard": f"https://grafana.acme.internal/d/{team}"},
                "runbookUrl": f"https://runbooks.acme.internal/slo/{team}/availability",
                "page": {"labels": {"severity": "critical"}, "for": "2m"},
                "ticket": {"labels": {"severity": "warning"}, "for": "1h"},
            }
        }
    if i % 4 == 2 and "latency" in slos:
        out["latency"] = slos["latency"] | {"alerting": {"disable": True}}
    return out


def model(i: int, serving_only: bool = False) -> tuple[str, Spec]:
    name, team, runtime = model_name(i), TEAMS[i % len(TEAMS)], RUNTIMES[i % len(RUNTIMES)]
    data = [
        {"name": "events", "uri": f"s3://acme-data/{team}/events/", "version": f"2026-{1 + i % 12:02d}-01"}
    ]
    if i % 3 == 0:
        data.append({"name": "reference", "uri": f"gs://acme-reference/{name}/"})
    body: Spec = {
        "data": data,
        "training": training(i, name, team, runtime in GPU_RUNTIMES),
        "evaluation": evaluation(i, team),
        "registry": {"modelName": f"{team}.{name}", "alias": "champion"} if i % 2 else {"alias": "champion"},
        "serving": serving(i, name, runtime),
        "deployments": deployments(i, runtime),
        "monitoring": monitoring(i, name, team, runtime),
    }
    if serving_only:
        for part in ("training", "evaluation", "monitoring"):
            del body[part]
    if i % 5 == 1:
        body["lifecycle"] = {"stage": "active"}
    elif i % 5 == 3:
        body["lifecycle"] = {
            "stage": "deprecated",
            "sunset": "2099-12-31",
            "replacedBy": model_name(i - 1),
            "reason": "superseded by a newer model",
        }
    spec = {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {
            "name": name,
            "owner": f"{team}-team",
            "description": f"Synthetic {runtime} model number {i}.",
            "labels": {"team": team, "runtime": runtime},
        },
        "spec": body,
    }
    return f"models/{team}/{name}.yaml", spec


def retired_model() -> tuple[str, Spec]:
    """One extra model that is retired: no deployments, nothing generated."""
    spec = {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {"name": "legacy-scorer", "owner": "risk-team"},
        "spec": {
            "serving": {"runtime": "sklearn", "artifact": "s3://acme-models/legacy-scorer/{version}/"},
            "lifecycle": {
                "stage": "retired",
                "replacedBy": model_name(0),
                "reason": "replaced by the synthetic models",
            },
        },
    }
    return "models/retired/legacy-scorer.yaml", spec


class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper that writes shared objects out in full instead of as &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(spec: Spec) -> str:
    text: str = yaml.dump(spec, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120)
    return text


def generate(n: int, outdir: Path, serving_only: bool = False) -> list[Path]:
    """Write the project into ``outdir`` (empty, absent, or a previous output) and return its files."""
    if outdir.exists() and any(outdir.iterdir()) and not (outdir / MARKER).is_file():
        raise SystemExit(f"{outdir} is not empty and was not written by generate.py; refusing to touch it")
    for old in sorted(outdir.glob("models/**/*.yaml")):
        old.unlink()
    files = {"mlgitops.yaml": project(n, serving_only)}
    files.update(model(i, serving_only) for i in range(n))
    files.update([retired_model()])
    written = []
    for relative, spec in files.items():
        path = outdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(spec), encoding="utf-8", newline="\n")
        written.append(path)
    (outdir / MARKER).write_text(f"{n}\n", encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", metavar="N", type=int, help="number of deployed models (>= 1)")
    parser.add_argument("outdir", metavar="OUTDIR", type=Path, help="directory to write the project into")
    parser.add_argument(
        "--serving-only",
        action="store_true",
        help="no training, evaluation or monitoring: only serving and GitOps files are generated",
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    written = generate(args.n, args.outdir, args.serving_only)
    print(f"wrote {len(written)} files ({args.n} models x {len(ENVIRONMENTS)} environments) to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
