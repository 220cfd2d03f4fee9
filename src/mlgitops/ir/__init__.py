"""Stage 5, IR: the frozen, fully resolved description that targets read.

Targets never see spec objects or raw YAML: every value here is complete
(defaults applied), typed, and sorted where order carries no meaning.
"""

from mlgitops.ir.types import (
    SLO,
    Alerts,
    Autoscaling,
    Canary,
    CiInstall,
    Container,
    DataSource,
    Deployment,
    Drift,
    Environment,
    EnvVar,
    Evaluation,
    Gate,
    MetricSelectors,
    Model,
    Monitoring,
    Project,
    Registry,
    Resources,
    SecretKeyRef,
    Serving,
    Toleration,
    Training,
)

__all__ = [
    "SLO",
    "Alerts",
    "Autoscaling",
    "Canary",
    "CiInstall",
    "Container",
    "DataSource",
    "Deployment",
    "Drift",
    "EnvVar",
    "Environment",
    "Evaluation",
    "Gate",
    "MetricSelectors",
    "Model",
    "Monitoring",
    "Project",
    "Registry",
    "Resources",
    "SecretKeyRef",
    "Serving",
    "Toleration",
    "Training",
]
