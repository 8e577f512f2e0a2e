"""SQLAlchemy Core table metadata, grouped by domain. Migrations create these tables; a test
asserts the migrated database and this metadata agree."""

from tessera.db.tables.briefs import agent_skills, brief_refreshes, brief_versions, briefs
from tessera.db.tables.compounding import compounding_jobs, compounding_metrics, patterns, playbook_rules
from tessera.db.tables.context import (
    ai_list_jobs,
    artifact_entities,
    artifacts,
    ask_sessions,
    insights,
    webhook_deliveries,
    webhooks,
)
from tessera.db.tables.core import api_keys, erasure_receipts, idempotency_keys, metadata, workspaces
from tessera.db.tables.events import event_heads, events
from tessera.db.tables.integrations import (
    integration_connections,
    integration_connects,
    integration_messages,
    integration_syncs,
)
from tessera.db.tables.notifications import (
    notification_marks,
    notification_preferences,
    notification_rules,
    notification_runs,
    notifications,
)
from tessera.db.tables.records import (
    attribute_history,
    notes,
    outbox,
    record_values,
    records,
    relationships,
    task_entities,
    tasks,
    timeline_events,
    unique_values,
)
from tessera.db.tables.registry import (
    attribute_definitions,
    object_definitions,
    relationship_definitions,
)
from tessera.db.tables.transfer import export_chunks, exports, import_chunks, import_errors, imports

__all__ = [
    "agent_skills",
    "ai_list_jobs",
    "api_keys",
    "artifact_entities",
    "artifacts",
    "ask_sessions",
    "attribute_definitions",
    "attribute_history",
    "brief_refreshes",
    "brief_versions",
    "briefs",
    "compounding_jobs",
    "compounding_metrics",
    "erasure_receipts",
    "event_heads",
    "events",
    "export_chunks",
    "exports",
    "idempotency_keys",
    "import_chunks",
    "import_errors",
    "imports",
    "insights",
    "integration_connections",
    "integration_connects",
    "integration_messages",
    "integration_syncs",
    "metadata",
    "notes",
    "notification_marks",
    "notification_preferences",
    "notification_rules",
    "notification_runs",
    "notifications",
    "object_definitions",
    "outbox",
    "patterns",
    "playbook_rules",
    "record_values",
    "records",
    "relationship_definitions",
    "relationships",
    "task_entities",
    "tasks",
    "tenant_table_names",
    "timeline_events",
    "unique_values",
    "webhook_deliveries",
    "webhooks",
    "workspaces",
]


def tenant_table_names() -> frozenset[str]:
    """Every table that holds tenant data (has a ``workspace_id`` column), except the
    workspaces table itself and ``api_keys`` (a global routing table looked up by prefix)."""
    return frozenset(
        name
        for name, table in metadata.tables.items()
        if "workspace_id" in table.c and name not in {"api_keys"}
    )
