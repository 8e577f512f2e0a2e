"""``GET /v1/graph``: records as nodes, relationship instances as edges, insights as nodes linked
to the entities they are about, and context edges between entities mentioned in the same text.

Bounded however the workspace is shaped: at most ``limit`` entity nodes, ``MAX_INSIGHT_NODES``
insight nodes and ``EDGES_PER_NODE * limit`` edges of each kind (relationship, insight, context;
the totals say how many exist). Entities mentioned together are drawn as a star, each linked to
the artifact's first entity, not as a clique: one text naming 100 entities adds 99 edges, not
4,950."""

from __future__ import annotations

from typing import Any

from schema_registry.workspace import WorkspaceSchema
from tessera.db.id_order import creation_page, order_by
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.repository import to_row
from tessera.records.values import primary_value
from tessera.wire import iso

MAX_INSIGHT_NODES = 1000
MAX_INSIGHTS_PER_ENTITY = 5
EDGES_PER_NODE = 4
MAX_ARTIFACTS = 1000


async def build_graph(tenant: Tenant, schema: WorkspaceSchema, limit: int) -> dict[str, Any]:
    max_edges = EDGES_PER_NODE * limit
    object_ids = [o.id for o in schema.objects if not o.is_list]
    total_nodes = int((await tenant.fetchrow(
        "SELECT count(*) FROM records WHERE workspace_id = $1 AND object_id = ANY($2::bigint[])", object_ids))[0])
    params = Params()
    rows = await creation_page(
        tenant, "SELECT id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, "
        f"updated_at FROM records WHERE workspace_id = $1 AND object_id = ANY({params.add(object_ids, 'bigint[]')})",
        params, newest_first=False, limit=limit)
    nodes, ids = [], []
    for raw in rows:
        row = to_row(raw)
        obj = schema.object_by_id(row.object_id)
        if obj is None:
            continue
        name = primary_value(obj, row.data)
        nodes.append({"id": str(row.id), "name": name or f"{obj.name} {row.id}", "type": obj.type.value,
                      "definition_slug": obj.slug, "primary_attribute": name, "created_at": iso(row.created_at)})
        ids.append(row.id)
    total_edges = int((await tenant.fetchrow("SELECT count(*) FROM relationships WHERE workspace_id = $1"))[0])
    edge_rows = await tenant.fetch(
        "SELECT r.id, r.definition_id, r.entity_1_id, r.entity_2_id, d.entity_1_to_2_predicate, d.type "
        "FROM relationships r JOIN relationship_definitions d ON d.workspace_id = r.workspace_id "
        "AND d.id = r.definition_id WHERE r.workspace_id = $1 AND r.entity_1_id = ANY($2::bigint[]) "
        f"AND r.entity_2_id = ANY($2::bigint[]) ORDER BY {order_by(tenant.workspace_id, 'r.id')} LIMIT $3",
        ids, max_edges)
    edges = [{"id": str(e["id"]), "source": str(e["entity_1_id"]), "target": str(e["entity_2_id"]),
              "label": e["entity_1_to_2_predicate"] or e["type"], "definition_id": str(e["definition_id"])}
             for e in edge_rows]
    definitions = []
    for d in schema.relationships:
        predicates = [p for p in (d.entity_1_to_2_predicate, d.entity_2_to_1_predicate) if p]
        definitions.append({"id": str(d.id), "name": " / ".join(predicates) or d.type.value,
                            "entity_1_to_2": d.entity_1_to_2_predicate, "entity_2_to_1": d.entity_2_to_1_predicate})
    insight_rows = await tenant.fetch(
        "SELECT id, type, content, confidence, entity_ids FROM insights WHERE workspace_id = $1 "
        f"AND entity_ids && $2::bigint[] ORDER BY {order_by(tenant.workspace_id, 'id', newest_first=True)} LIMIT $3",
        ids, MAX_INSIGHT_NODES)
    in_graph = set(ids)
    insight_nodes: list[dict[str, Any]] = []
    context_edges: list[dict[str, Any]] = []
    insight_edges = 0
    per_entity: dict[str, list[dict[str, Any]]] = {}
    for insight in insight_rows:
        node_id = f"ei:{insight['id']}"
        insight_nodes.append({"id": node_id, "content": insight["content"], "type": insight["type"],
                              "confidence": insight["confidence"], "source": "entity_insight"})
        for entity in insight["entity_ids"]:
            if entity not in in_graph or insight_edges >= max_edges:
                continue
            insight_edges += 1
            context_edges.append({"id": f"ei_edge_{insight['id']}_{entity}", "source": node_id,
                                  "target": str(entity), "label": insight["type"], "edge_type": "insight"})
            summaries = per_entity.setdefault(str(entity), [])
            if len(summaries) < MAX_INSIGHTS_PER_ENTITY:
                summaries.append({"content": insight["content"], "confidence": insight["confidence"],
                                  "type": insight["type"]})
    mentions = await tenant.fetch(
        "SELECT artifact_id, array_agg(record_id ORDER BY record_id) AS records FROM artifact_entities "
        "WHERE workspace_id = $1 AND record_id = ANY($2::bigint[]) GROUP BY artifact_id "
        f"ORDER BY {order_by(tenant.workspace_id, 'artifact_id', newest_first=True)} LIMIT $3", ids, MAX_ARTIFACTS)
    mention_edges = 0
    for mention in mentions:
        hub, *others = mention["records"]
        for other in others[:max(0, max_edges - mention_edges)]:
            mention_edges += 1
            context_edges.append({"id": f"ctx_{mention['artifact_id']}_{hub}_{other}", "source": str(hub),
                                  "target": str(other), "label": "mentioned_with", "edge_type": "context"})
    return {"nodes": nodes, "edges": edges, "relationship_definitions": definitions, "context_edges": context_edges,
            "insight_nodes": insight_nodes, "insights": per_entity, "total_nodes": total_nodes,
            "total_edges": total_edges, "total_context_edges": len(context_edges)}


def graph_html(graph: dict[str, Any]) -> str:
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
