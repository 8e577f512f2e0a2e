"""The route table: every API endpoint, as data. Paths hang below ``API_PREFIX``."""

from __future__ import annotations

from tessera.http.endpoint import Endpoint
from tessera.keys import endpoints as keys
from tessera.keys import models as key_models
from tessera.registry import endpoints as registry
from tessera.registry import models as reg

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
