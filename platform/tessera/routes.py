"""The route table: every API endpoint, as data. Paths hang below ``API_PREFIX``."""

from __future__ import annotations

from tessera.context import endpoints as context
from tessera.context import models as ctx_models
from tessera.events import endpoints as events
from tessera.events import models as event_models
from tessera.fulltext import endpoints as fulltext
from tessera.fulltext import models as search_models
from tessera.http.endpoint import Endpoint
from tessera.keys import endpoints as keys
from tessera.keys import models as key_models
from tessera.notes import endpoints as notes
from tessera.notes import models as note_models
from tessera.records import endpoints as records
from tessera.records import models as rec
from tessera.registry import endpoints as registry
from tessera.registry import models as reg
from tessera.tasks import endpoints as tasks
from tessera.tasks import models as task_models
from tessera.timeline import endpoints as timeline
from tessera.timeline import models as timeline_models
from tessera.transfer import endpoints as transfer
from tessera.transfer import models as transfer_models
from tessera.webhooks import endpoints as webhooks
from tessera.webhooks import models as hook_models

API_PREFIX = "/api/developers"

ENDPOINTS: list[Endpoint] = [
    # Schema: objects
    Endpoint("GET", "/v1/objects", registry.list_objects, "object.read", "listObjects",
             "List object definitions", "Objects", query=reg.IncludeAttributesQuery,
             response=reg.ListObjectsResponse),
    Endpoint("POST", "/v1/objects", registry.create_object, "object.write", "createObjectDefinition",
             "Create an object definition", "Schema", body=reg.CreateObjectRequest, response=reg.ObjectResponse),
    Endpoint("GET", "/v1/objects/{slug}", registry.get_object, "object.read", "getObjectDefinition",
             "Get an object definition with its attributes", "Schema", response=reg.ObjectResponse),
    Endpoint("PATCH", "/v1/objects/{slug}", registry.update_object, "object.write", "updateObjectDefinition",
             "Update an object definition", "Schema", body=reg.UpdateObjectRequest, response=reg.ObjectResponse),
    Endpoint("DELETE", "/v1/objects/{slug}", registry.delete_object, "object.write", "deleteObjectDefinition",
             "Delete an object definition and everything in it", "Schema"),
    Endpoint("GET", "/v1/objects/{slug}/schema", registry.get_object_schema, "object.read", "getObjectSchema",
             "JSON Schema (2020-12) of a record's attributes (beyond the spec)", "Schema",
             response=reg.JsonSchemaResponse),
    # Schema: attributes
    Endpoint("POST", "/v1/objects/{slug}/attributes", registry.create_attribute, "object.write",
             "createAttributeDefinition", "Create an attribute definition", "Schema",
             body=reg.CreateAttributeRequest, response=reg.AttributeDefinitionResponse),
    Endpoint("PATCH", "/v1/objects/{slug}/attributes/{attr_id}", registry.update_attribute, "object.write",
             "updateAttributeDefinition", "Update an attribute definition", "Schema",
             body=reg.UpdateAttributeRequest, response=reg.AttributeDefinitionResponse),
    Endpoint("DELETE", "/v1/objects/{slug}/attributes/{attr_id}", registry.delete_attribute, "object.write",
             "deleteAttributeDefinition", "Delete an attribute definition and its values", "Schema"),
    # Records
    Endpoint("POST", "/v1/objects/{slug}", records.create_record, "record.write", "createRecord",
             "Create a record", "Records", body=rec.RecordBody, response=rec.RecordResponse),
    Endpoint("PUT", "/v1/objects/{slug}", records.upsert_record, "record.write", "upsertRecord",
             "Create or update a record matched by a unique attribute", "Records",
             body=rec.UpsertRecordRequest, response=rec.RecordResponse),
    Endpoint("POST", "/v1/objects/{slug}/records", records.list_records, "record.read", "listRecords",
             "List, filter and sort records", "Records", body=rec.ListRecordsRequest,
             response=rec.ListRecordsResponse),
    Endpoint("POST", "/v1/objects/{slug}/records/batch", records.batch_records, "record.write", "batchRecords",
             "Create or upsert up to 1,000 records (beyond the spec)", "Records", body=rec.BatchRequest,
             response=rec.BatchResponse),
    Endpoint("GET", "/v1/records/{record_id}", records.get_record, "record.read", "getRecord", "Get a record",
             "Records", response=rec.RecordResponse),
    Endpoint("PATCH", "/v1/records/{record_id}", records.update_record, "record.write", "updateRecord",
             "Update a record's attributes (null clears)", "Records", body=rec.UpdateRecordRequest,
             response=rec.RecordResponse),
    Endpoint("DELETE", "/v1/records/{record_id}", records.delete_record, "record.write", "deleteRecord",
             "Delete a record", "Records"),
    # Relationship instances
    Endpoint("POST", "/v1/records/{record_id}/relationships", records.create_relationship, "relationship.write",
             "createRelationshipInstance", "Relate two records", "Relationships",
             body=rec.CreateRelationshipRequest, response=rec.RelationshipInstanceResponse),
    Endpoint("GET", "/v1/records/{record_id}/relationships", records.list_relationships, "relationship.read",
             "listRelationshipInstances", "A record's relationships (beyond the spec)", "Relationships",
             response=rec.RelationshipInstanceListResponse),
    Endpoint("DELETE", "/v1/records/{record_id}/relationships/{rel_id}", records.delete_relationship,
             "relationship.write", "deleteRelationshipInstance", "Delete a relationship instance",
             "Relationships"),
    # List entries
    Endpoint("POST", "/v1/lists/{id}", records.add_list_member, "list.member.write", "addListMember",
             "Add a record to a list", "Lists", body=rec.ListMemberRequest, response=rec.ListEntryResponse),
    Endpoint("PUT", "/v1/lists/{id}", records.upsert_list_member, "list.member.write", "upsertListMember",
             "Add a record to a list or update its entry", "Lists", body=rec.ListMemberRequest,
             response=rec.ListEntryResponse),
    Endpoint("POST", "/v1/lists/{id}/records", records.list_list_members, "list.member.read", "getListRecords",
             "List, filter and sort a list's records", "Lists", body=rec.ListRecordsRequest,
             response=rec.ListRecordsResponse),
    Endpoint("PATCH", "/v1/lists/{id}/records/{record_id}", records.update_list_member, "list.member.write",
             "updateListRecord", "Update a record's list-specific attributes", "Lists",
             body=rec.UpdateListRecordRequest, response=rec.ListEntryResponse),
    Endpoint("DELETE", "/v1/lists/{id}/records/{record_id}", records.remove_list_member, "record.write",
             "removeRecordFromList", "Remove a record from a list (the record stays)", "Lists"),
    # Search
    Endpoint("POST", "/v1/search", fulltext.search, "record.read", "searchRecords",
             "Full-text search across records, grouped by object", "Search", body=search_models.SearchRequest,
             response=search_models.SearchResponse),
    # Context and AI
    Endpoint("POST", "/v1/context/text", context.add_context, "insight.stream", "addContext",
             "Feed in free text; a worker extracts records and insights", "Context",
             body=ctx_models.AddContextTextRequest, response=ctx_models.AddContextTextResponse),
    Endpoint("GET", "/v1/context/artifacts/{artifact_id}", context.get_artifact, "insight.stream", "getArtifact",
             "Processing status and results of a text", "Context", response=ctx_models.GetArtifactResponse),
    Endpoint("POST", "/v1/context/ask", context.ask_endpoint, "insight.stream", "queryContext",
             "Ask a question about your data", "Context", body=ctx_models.QueryContextRequest,
             response=ctx_models.QueryContextResponse),
    Endpoint("POST", "/v1/context/list/jobs", context.create_list_job, "insight.stream", "createAIListJob",
             "Build a list of contacts or companies from a description", "AI Lists",
             body=ctx_models.CreateAIListJobRequest, response=ctx_models.AIListJobResponse),
    Endpoint("GET", "/v1/context/list/jobs/{job_id}", context.get_list_job, "insight.stream", "getAIListJob",
             "Status and results of an AI list job", "AI Lists", query=ctx_models.IncludeAttributesQuery,
             response=ctx_models.AIListJobResponse),
    Endpoint("GET", "/v1/insights", context.list_insights_endpoint, "insight.stream", "getInsights",
             "Insights of the workspace", "Insights", query=ctx_models.InsightsQuery,
             response=ctx_models.InsightsResponse),
    Endpoint("GET", "/v1/insights/stream", context.stream_insights, "insight.stream", "streamInsights",
             "Stream insights (server-sent events)", "Insights", streaming=True),
    Endpoint("GET", "/v1/graph", context.graph, "record.read", "getGraph", "Knowledge graph of the workspace",
             "Graph", query=ctx_models.GraphQuery, response=ctx_models.GraphResponse, media=("text/html",)),
    # Timeline and history
    Endpoint("GET", "/v1/records/{record_id}/timeline", timeline.record_timeline, "record.read",
             "getRecordTimeline", "A record's activity, newest first", "Timeline",
             query=timeline_models.TimelineQuery, response=timeline_models.TimelineResponse),
    Endpoint("GET", "/v1/records/{record_id}/attributes/{slug}/history", timeline.attribute_history,
             "record.read", "getAttributeHistory", "Every value an attribute has had (beyond the spec)", "Timeline",
             response=timeline_models.AttributeHistoryResponse),
    # Tasks
    Endpoint("POST", "/v1/tasks", tasks.create_task, "task.write", "createTask", "Create a task", "Tasks",
             body=task_models.CreateTaskRequest, response=task_models.TaskResponse),
    Endpoint("GET", "/v1/tasks", tasks.list_tasks, "task.read", "listTasks", "List tasks", "Tasks",
             query=task_models.ListTasksQuery, response=task_models.ListTasksResponse),
    Endpoint("GET", "/v1/tasks/{task_id}", tasks.get_task, "task.read", "getTask", "Get a task", "Tasks",
             response=task_models.TaskResponse),
    Endpoint("PATCH", "/v1/tasks/{task_id}", tasks.update_task, "task.write", "updateTask", "Update a task",
             "Tasks", body=task_models.UpdateTaskRequest, response=task_models.TaskResponse),
    Endpoint("DELETE", "/v1/tasks/{task_id}", tasks.delete_task, "task.write", "deleteTask",
             "Archive a task", "Tasks"),
    # Notes
    Endpoint("POST", "/v1/notes", notes.create_note, "note.write", "createNote", "Create a note", "Notes",
             body=note_models.CreateNoteRequest, response=note_models.NoteResponse),
    Endpoint("GET", "/v1/notes", notes.list_notes, "note.read", "listNotes", "List notes (newest 200)", "Notes",
             query=note_models.ListNotesQuery, response=note_models.ListNotesResponse),
    Endpoint("GET", "/v1/notes/{note_id}", notes.get_note, "note.read", "getNote", "Get a note", "Notes",
             response=note_models.NoteResponse),
    Endpoint("PATCH", "/v1/notes/{note_id}", notes.update_note, "note.write", "updateNote", "Update a note",
             "Notes", body=note_models.UpdateNoteRequest, response=note_models.NoteResponse),
    Endpoint("DELETE", "/v1/notes/{note_id}", notes.delete_note, "note.write", "deleteNote", "Archive a note",
             "Notes"),
    # Lists (definitions)
    Endpoint("POST", "/v1/objects/{slug}/lists", registry.create_list, "object.write", "createList",
             "Create a list for an object", "Lists", body=reg.CreateListRequest, response=reg.ObjectResponse),
    Endpoint("GET", "/v1/objects/{slug}/lists", registry.list_lists, "list.read", "listObjectLists",
             "List the lists of an object", "Lists", query=reg.IncludeAttributesQuery,
             response=reg.ListObjectsResponse),
    Endpoint("GET", "/v1/lists/{id}", registry.get_list, "list.read", "getList", "Get a list", "Lists",
             response=reg.ObjectResponse),
    Endpoint("DELETE", "/v1/lists/{id}", registry.delete_list, "object.write", "deleteList", "Delete a list",
             "Lists"),
    # Relationship definitions
    Endpoint("POST", "/v1/relationships", registry.create_relationship_definition, "relationship.write",
             "createRelationshipDefinition", "Create a relationship definition", "Relationships",
             body=reg.CreateRelationshipDefinitionRequest, response=reg.RelationshipDefinitionResponse),
    Endpoint("GET", "/v1/relationships", registry.list_relationship_definitions, "relationship.read",
             "listRelationshipDefinitions", "List relationship definitions", "Relationships",
             response=reg.ListRelationshipDefinitionsResponse),
    Endpoint("DELETE", "/v1/relationships/{id}", registry.delete_relationship_definition, "relationship.write",
             "deleteRelationshipDefinition", "Delete a relationship definition and its instances",
             "Relationships"),
    # Imports, exports, erasure (beyond the seed)
    Endpoint("POST", "/v1/objects/{slug}/imports", transfer.create_import, "record.write", "createImport",
             "Import a CSV or JSON-lines file (multipart field 'file'; 'mapping', 'matching_attribute')", "Imports",
             response=transfer_models.ImportResponse, raw_body=True, upload_idempotency=True),
    Endpoint("POST", "/v1/objects/{slug}/imports/preview", transfer.preview_import, "record.read", "previewImport",
             "Infer column types and a mapping from a sample", "Imports",
             response=transfer_models.PreviewResponse, raw_body=True),
    Endpoint("GET", "/v1/imports/{id}", transfer.get_import, "record.read", "getImport",
             "Progress of an import", "Imports", response=transfer_models.ImportResponse),
    Endpoint("GET", "/v1/imports/{id}/errors", transfer.import_errors, "record.read", "getImportErrors",
             "The rows an import refused (JSON or CSV)", "Imports", query=transfer_models.ErrorsQuery,
             response=transfer_models.ImportErrorsResponse, media=("text/csv",)),
    Endpoint("POST", "/v1/exports", transfer.create_export, "record.read", "createExport",
             "Export the workspace (JSON lines, or CSV per object) or one object", "Exports",
             body=transfer_models.CreateExportRequest, response=transfer_models.ExportResponse),
    Endpoint("GET", "/v1/exports/{id}", transfer.get_export, "record.read", "getExport",
             "Status of an export", "Exports", response=transfer_models.ExportResponse),
    Endpoint("GET", "/v1/exports/{id}/download", transfer.download_export, "record.read", "downloadExport",
             "Download a finished export", "Exports", streaming=True,
             media=("application/x-ndjson", "text/csv", "application/zip")),
    Endpoint("DELETE", "/v1/workspace", transfer.delete_workspace, "workspace.delete", "deleteWorkspace",
             "Erase the workspace and everything in it, everywhere", "Workspace", erases_workspace=True),
    # Webhooks (beyond the seed)
    Endpoint("GET", "/v1/webhooks", webhooks.list_webhooks, "webhook.read", "listWebhooks", "List webhooks",
             "Webhooks", response=hook_models.WebhookListResponse),
    Endpoint("POST", "/v1/webhooks", webhooks.create_webhook, "webhook.write", "createWebhook",
             "Subscribe a URL to events (the signing secret is shown once)", "Webhooks",
             body=hook_models.CreateWebhookRequest, response=hook_models.WebhookResponse),
    Endpoint("GET", "/v1/webhooks/{id}", webhooks.get_webhook, "webhook.read", "getWebhook", "Get a webhook",
             "Webhooks", response=hook_models.WebhookResponse),
    Endpoint("PATCH", "/v1/webhooks/{id}", webhooks.update_webhook, "webhook.write", "updateWebhook",
             "Change, disable or re-enable a webhook", "Webhooks", body=hook_models.UpdateWebhookRequest,
             response=hook_models.WebhookResponse),
    Endpoint("DELETE", "/v1/webhooks/{id}", webhooks.delete_webhook, "webhook.write", "deleteWebhook",
             "Delete a webhook and its delivery log", "Webhooks"),
    Endpoint("POST", "/v1/webhooks/{id}/rotate-secret", webhooks.rotate_secret, "webhook.write",
             "rotateWebhookSecret", "Replace the signing secret (the old one stops at once)", "Webhooks",
             response=hook_models.WebhookResponse),
    Endpoint("POST", "/v1/webhooks/{id}/test", webhooks.test_webhook, "webhook.write", "testWebhook",
             "Send a test event", "Webhooks", response=hook_models.TestDeliveryResponse),
    Endpoint("GET", "/v1/webhooks/{id}/deliveries", webhooks.list_deliveries, "webhook.read",
             "listWebhookDeliveries", "The delivery log, newest first", "Webhooks",
             query=hook_models.DeliveriesQuery, response=hook_models.DeliveriesResponse),
    # Change stream (beyond the spec): the events webhooks carry, pulled or streamed
    Endpoint("GET", "/v1/events", events.list_events, "webhook.read", "listEvents",
             "The workspace's events, oldest first, cursor-paged (those the key may read)", "Events",
             query=event_models.EventsQuery, response=event_models.EventListResponse),
    Endpoint("GET", "/v1/events/stream", events.stream_events, "webhook.read", "streamEvents",
             "Stream events as they commit (server-sent events, resumable with Last-Event-ID)", "Events",
             query=event_models.StreamQuery, streaming=True),
    # Key management (beyond the seed)
    Endpoint("GET", "/v1/api-keys", keys.list_keys, "api_key.read", "listApiKeys",
             "List API keys", "API keys", response=key_models.ApiKeyListResponse),
    Endpoint("POST", "/v1/api-keys", keys.create_key, "api_key.write", "createApiKey",
             "Create an API key (the full key is shown once)", "API keys",
             body=key_models.CreateApiKeyRequest, response=key_models.NewApiKeyResponse),
    Endpoint("GET", "/v1/api-keys/{id}", keys.get_key, "api_key.read", "getApiKey",
             "Get an API key", "API keys", response=key_models.ApiKeyResponse),
    Endpoint("PATCH", "/v1/api-keys/{id}", keys.update_key, "api_key.write", "updateApiKey",
             "Update an API key", "API keys", body=key_models.UpdateApiKeyRequest,
             response=key_models.ApiKeyResponse),
    Endpoint("DELETE", "/v1/api-keys/{id}", keys.revoke_key, "api_key.write", "revokeApiKey",
             "Revoke an API key", "API keys"),
    Endpoint("POST", "/v1/api-keys/{id}/rotate", keys.rotate_key, "api_key.write", "rotateApiKey",
             "Issue a new key with the same settings and revoke this one", "API keys",
             response=key_models.NewApiKeyResponse),
]
