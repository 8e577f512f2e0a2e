"""A workspace's whole schema at one version: what the record engine and search consult."""

from __future__ import annotations

from dataclasses import dataclass, field

from schema_registry.definitions import ObjectDefinition, RelationshipDefinition


@dataclass(frozen=True)
class WorkspaceSchema:
    workspace_id: int
    version: int
    objects: tuple[ObjectDefinition, ...]
    relationships: tuple[RelationshipDefinition, ...]
    webhooks: bool = False
    """Whether any webhook is active: writers only queue webhook events when one is."""
    by_slug: dict[str, ObjectDefinition] = field(init=False, repr=False, compare=False)
    by_id: dict[int, ObjectDefinition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_slug", {o.slug: o for o in self.objects})
        object.__setattr__(self, "by_id", {o.id: o for o in self.objects})

    def object(self, slug: str) -> ObjectDefinition | None:
        return self.by_slug.get(slug)

    def object_by_id(self, object_id: int) -> ObjectDefinition | None:
        return self.by_id.get(object_id)

    def lists_of(self, parent_id: int) -> list[ObjectDefinition]:
        return [o for o in self.objects if o.parent_object_id == parent_id]

    def relationship(self, definition_id: int) -> RelationshipDefinition | None:
        for definition in self.relationships:
            if definition.id == definition_id:
                return definition
        return None
