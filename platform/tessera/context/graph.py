"""``GET /v1/graph``: records as nodes, relationship instances as edges, insights as nodes linked
to the entities they are about, and context edges between entities mentioned in the same text.

Bounded however the workspace is shaped: at most ``limit`` entity nodes, ``MAX_INSIGHT_NODES``
insight nodes and ``EDGES_PER_NODE * limit`` edges of each kind (relationship, insight, context;
the totals say how many exist). Entities mentioned together are drawn as a star, each linked to
the artifact's first entity, not as a clique: one text naming 100 entities adds 99 edges, not
4,950."""

from __future__ import annotations

from typing import TypedDict

from schema_registry.workspace import WorkspaceSchema
from tessera.context import repository
from tessera.db.tenant import Tenant
from tessera.records.values import primary_value
from tessera.wire import iso

MAX_INSIGHT_NODES = 1000
MAX_INSIGHTS_PER_ENTITY = 5
EDGES_PER_NODE = 4
MAX_ARTIFACTS = 1000


class NodeJson(TypedDict):
    id: str
    name: str
    type: str
    definition_slug: str
    primary_attribute: str
    created_at: str | None


class EdgeJson(TypedDict):
    id: str
    source: str
    target: str
    label: str
    definition_id: str


class DefinitionJson(TypedDict):
    id: str
    name: str
    entity_1_to_2: str | None
    entity_2_to_1: str | None


class ContextEdgeJson(TypedDict):
    id: str
    source: str
    target: str
    label: str
    edge_type: str
    """``insight`` (an insight node to an entity) or ``context`` (entities mentioned together)."""


class InsightNodeJson(TypedDict):
    id: str
    content: str
    type: str
    confidence: float
    source: str


class InsightSummaryJson(TypedDict):
    content: str
    confidence: float
    type: str


class GraphJson(TypedDict):
    """``developer.GraphResponse``."""

    nodes: list[NodeJson]
    edges: list[EdgeJson]
    relationship_definitions: list[DefinitionJson]
    context_edges: list[ContextEdgeJson]
    insight_nodes: list[InsightNodeJson]
    insights: dict[str, list[InsightSummaryJson]]
    """The first insights about each entity, by its id."""
    total_nodes: int
    total_edges: int
    total_context_edges: int


async def build_graph(tenant: Tenant, schema: WorkspaceSchema, limit: int) -> GraphJson:
    max_edges = EDGES_PER_NODE * limit
    object_ids = [o.id for o in schema.objects if not o.is_list]
    total_nodes = await repository.count_records(tenant, object_ids)
    nodes: list[NodeJson] = []
    ids: list[int] = []
    for row in await repository.first_records(tenant, object_ids, limit=limit):
        obj = schema.object_by_id(row.object_id)
        if obj is None:
            continue
        name = primary_value(obj, row.data)
        nodes.append({"id": str(row.id), "name": name or f"{obj.name} {row.id}", "type": obj.type.value,
                      "definition_slug": obj.slug, "primary_attribute": name, "created_at": iso(row.created_at)})
        ids.append(row.id)
    total_edges = await repository.count_relationships(tenant)
    edges: list[EdgeJson] = [
        {"id": str(e.id), "source": str(e.entity_1_id), "target": str(e.entity_2_id),
         "label": e.entity_1_to_2_predicate or e.type, "definition_id": str(e.definition_id)}
        for e in await repository.edges_among(tenant, ids, limit=max_edges)]
    definitions: list[DefinitionJson] = []
    for d in schema.relationships:
        predicates = [p for p in (d.entity_1_to_2_predicate, d.entity_2_to_1_predicate) if p]
        definitions.append({"id": str(d.id), "name": " / ".join(predicates) or d.type.value,
                            "entity_1_to_2": d.entity_1_to_2_predicate, "entity_2_to_1": d.entity_2_to_1_predicate})
    in_graph = set(ids)
    insight_nodes: list[InsightNodeJson] = []
    context_edges: list[ContextEdgeJson] = []
    insight_edges = 0
    per_entity: dict[str, list[InsightSummaryJson]] = {}
    for insight in await repository.insights_among(tenant, ids, limit=MAX_INSIGHT_NODES):
        node_id = f"ei:{insight.id}"
        insight_nodes.append({"id": node_id, "content": insight.content, "type": insight.type,
                              "confidence": insight.confidence, "source": "entity_insight"})
        for entity in insight.entity_ids:
            if entity not in in_graph or insight_edges >= max_edges:
                continue
            insight_edges += 1
            context_edges.append({"id": f"ei_edge_{insight.id}_{entity}", "source": node_id,
                                  "target": str(entity), "label": insight.type, "edge_type": "insight"})
            summaries = per_entity.setdefault(str(entity), [])
            if len(summaries) < MAX_INSIGHTS_PER_ENTITY:
                summaries.append({"content": insight.content, "confidence": insight.confidence,
                                  "type": insight.type})
    mention_edges = 0
    for mention in await repository.mentions_among(tenant, ids, limit=MAX_ARTIFACTS):
        hub, *others = mention.record_ids
        for other in others[:max(0, max_edges - mention_edges)]:
            mention_edges += 1
            context_edges.append({"id": f"ctx_{mention.artifact_id}_{hub}_{other}", "source": str(hub),
                                  "target": str(other), "label": "mentioned_with", "edge_type": "context"})
    return {"nodes": nodes, "edges": edges, "relationship_definitions": definitions, "context_edges": context_edges,
            "insight_nodes": insight_nodes, "insights": per_entity, "total_nodes": total_nodes,
            "total_edges": total_edges, "total_context_edges": len(context_edges)}


def graph_html(graph: GraphJson) -> str:
    """A self-contained page drawing the graph with a small force layout (no external assets)."""
    import orjson

    data = orjson.dumps({"nodes": graph["nodes"], "edges": graph["edges"] + [
        e for e in graph["context_edges"] if e["edge_type"] == "context"]}).decode().replace("</", "<\\/")
    return """<!doctype html><html><head><meta charset="utf-8"><title>Tessera graph</title>
<style>body{margin:0;font:12px sans-serif}canvas{display:block}</style></head><body><canvas id="c"></canvas>
<script>const g=""" + data + """;const c=document.getElementById('c'),x=c.getContext('2d');
c.width=innerWidth;c.height=innerHeight;const N=g.nodes.map((n,i)=>({...n,x:Math.cos(i)*200+c.width/2,
y:Math.sin(i)*200+c.height/2,vx:0,vy:0}));const I=Object.fromEntries(N.map(n=>[n.id,n]));
const E=g.edges.filter(e=>I[e.source]&&I[e.target]);function step(){for(const a of N){for(const b of N){
if(a===b)continue;const dx=a.x-b.x,dy=a.y-b.y,d=Math.max(dx*dx+dy*dy,25);a.vx+=dx/d*40;a.vy+=dy/d*40}
a.vx+=(c.width/2-a.x)*0.001;a.vy+=(c.height/2-a.y)*0.001}for(const e of E){const a=I[e.source],b=I[e.target],
dx=b.x-a.x,dy=b.y-a.y;a.vx+=dx*0.005;a.vy+=dy*0.005;b.vx-=dx*0.005;b.vy-=dy*0.005}for(const n of N){
n.x+=n.vx;n.y+=n.vy;n.vx*=0.6;n.vy*=0.6}}function draw(){x.clearRect(0,0,c.width,c.height);x.strokeStyle='#bbb';
for(const e of E){x.beginPath();x.moveTo(I[e.source].x,I[e.source].y);x.lineTo(I[e.target].x,I[e.target].y);
x.stroke()}for(const n of N){x.fillStyle=n.type==='company'?'#d62':n.type==='person'?'#26d':'#2a6';
x.beginPath();x.arc(n.x,n.y,5,0,7);x.fill();x.fillStyle='#333';x.fillText(n.name,n.x+7,n.y+4)}}
(function loop(){step();draw();requestAnimationFrame(loop)})();</script></body></html>"""
