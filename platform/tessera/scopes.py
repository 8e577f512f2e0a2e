"""API-key scopes: the seed's list plus key and webhook management, workspace erasure, and the
scopes of the operations the spec gives none (compounding, briefs/playbooks/skills, notifications,
integrations)."""

from __future__ import annotations

SCOPES: tuple[str, ...] = (
    "object.read",
    "object.write",
    "record.read",
    "record.write",
    "list.read",
    "list.member.read",
    "list.member.write",
    "relationship.read",
    "relationship.write",
    "task.read",
    "task.write",
    "note.read",
    "note.write",
    "insight.stream",
    "api_key.read",
    "api_key.write",
    "webhook.read",
    "webhook.write",
    "workspace.delete",
    "compounding.read",
    "compounding.write",
    "playbook.read",
    "playbook.write",
    "notification.read",
    "notification.write",
    "integration.read",
    "integration.write",
)
ALL_SCOPES = frozenset(SCOPES)
