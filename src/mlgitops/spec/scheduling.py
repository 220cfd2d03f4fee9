"""Kubernetes' own scheduling objects, passed through to the serving pods: `affinity` and
`topologySpreadConstraints`, spelled and checked as the Kubernetes API (core/v1) defines them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlgitops.spec.base import SpecModel
from mlgitops.spec.types import LabelKey, LabelValue, Text

_WEIGHT = Annotated[int, Field(ge=1, le=100)]
TopologyKey = Annotated[str, Field(min_length=1, max_length=316)]


class NodeSelectorRequirement(SpecModel):
    """A node label (or field) test: `key`, `operator`, `values`."""

    key: Annotated[str, Field(min_length=1, max_length=316)] = Field(description="Label key.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] = Field(description="`operator`.")
    values: list[Text] | None = Field(default=None, description="`values` (none with Exists/DoesNotExist).")


class NodeSelectorTerm(SpecModel):
    """Requirements a node must all meet."""

    match_expressions: list[NodeSelectorRequirement] | None = Field(
        default=None, description="`matchExpressions` on node labels."
    )
    match_fields: list[NodeSelectorRequirement] | None = Field(
        default=None, description="`matchFields` on node fields."
    )


class NodeSelector(SpecModel):
    """Terms of which a node must meet one."""

    node_selector_terms: list[NodeSelectorTerm] = Field(description="`nodeSelectorTerms`.", min_length=1)


class PreferredSchedulingTerm(SpecModel):
    """A weighted node preference."""

    weight: _WEIGHT = Field(description="`weight`, 1 to 100.")
    preference: NodeSelectorTerm = Field(description="`preference`.")


class NodeAffinity(SpecModel):
    """`affinity.nodeAffinity`."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = Field(
        default=None, description="`requiredDuringSchedulingIgnoredDuringExecution`."
    )
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = Field(
        default=None, description="`preferredDuringSchedulingIgnoredDuringExecution`."
    )


class LabelSelectorRequirement(SpecModel):
    """A label test of a label selector."""

    key: LabelKey = Field(description="Label key.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="`operator`.")
    values: list[LabelValue] | None = Field(default=None, description="`values`.")


class LabelSelector(SpecModel):
    """A Kubernetes label selector."""

    match_labels: dict[LabelKey, LabelValue] | None = Field(default=None, description="`matchLabels`.")
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        default=None, description="`matchExpressions`."
    )


class PodAffinityTerm(SpecModel):
    """Pods (by label) whose topology domain this pod should (or should not) share."""

    label_selector: LabelSelector | None = Field(default=None, description="`labelSelector`.")
    namespaces: list[Annotated[str, Field(max_length=63)]] | None = Field(
        default=None, description="`namespaces`."
    )
    namespace_selector: LabelSelector | None = Field(default=None, description="`namespaceSelector`.")
    topology_key: TopologyKey = Field(description="`topologyKey`, e.g. `kubernetes.io/hostname`.")
    match_label_keys: list[LabelKey] | None = Field(default=None, description="`matchLabelKeys`.")
    mismatch_label_keys: list[LabelKey] | None = Field(default=None, description="`mismatchLabelKeys`.")


class WeightedPodAffinityTerm(SpecModel):
    """A weighted pod (anti-)affinity preference."""

    weight: _WEIGHT = Field(description="`weight`, 1 to 100.")
    pod_affinity_term: PodAffinityTerm = Field(description="`podAffinityTerm`.")


class PodAffinity(SpecModel):
    """`affinity.podAffinity` or `affinity.podAntiAffinity`."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = Field(
        default=None, description="`requiredDuringSchedulingIgnoredDuringExecution`."
    )
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = Field(
        default=None, description="`preferredDuringSchedulingIgnoredDuringExecution`."
    )


class Affinity(SpecModel):
    """Pod `affinity`, as Kubernetes spells it."""

    node_affinity: NodeAffinity | None = Field(default=None, description="`nodeAffinity`.")
    pod_affinity: PodAffinity | None = Field(default=None, description="`podAffinity`.")
    pod_anti_affinity: PodAffinity | None = Field(default=None, description="`podAntiAffinity`.")


class TopologySpreadConstraint(SpecModel):
    """One pod `topologySpreadConstraints` entry, as Kubernetes spells it."""

    max_skew: Annotated[int, Field(ge=1)] = Field(description="`maxSkew`.")
    topology_key: TopologyKey = Field(description="`topologyKey`, e.g. `topology.kubernetes.io/zone`.")
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = Field(description="`whenUnsatisfiable`.")
    label_selector: LabelSelector | None = Field(
        default=None, description="`labelSelector`; usually the model's pods' labels."
    )
    min_domains: Annotated[int, Field(ge=1)] | None = Field(default=None, description="`minDomains`.")
    node_affinity_policy: Literal["Honor", "Ignore"] | None = Field(
        default=None, description="`nodeAffinityPolicy`."
    )
    node_taints_policy: Literal["Honor", "Ignore"] | None = Field(
        default=None, description="`nodeTaintsPolicy`."
    )
    match_label_keys: list[LabelKey] | None = Field(default=None, description="`matchLabelKeys`.")
