"""HTTP handlers of briefs, playbooks and agent skills: parse, call the service, serialize."""

from __future__ import annotations

from starlette.responses import Response

from tessera.briefs.models import (
    CompileBriefRequest,
    CompileSkillsRequest,
    HistoryQuery,
    ListBriefsQuery,
    ListSkillsQuery,
)
from tessera.briefs.serialize import brief_to_json, page_json, skill_to_json, version_to_json
from tessera.briefs.service import BriefService, SkillService
from tessera.http.context import RequestContext
from tessera.wire import JsonObject, JsonValue

MARKDOWN = "text/markdown; charset=utf-8"


async def _briefs(ctx: RequestContext) -> BriefService:
    return BriefService(await ctx.tenant(), await ctx.schema(), ctx.changes.now, ctx.principal.api_key_id)


async def _skills(ctx: RequestContext) -> SkillService:
    return SkillService(await ctx.tenant(), await ctx.schema(), ctx.changes.now)


def _markdown(content: str, name: str) -> Response:
    return Response(content.encode(), media_type=MARKDOWN,
                    headers={"Content-Disposition": f'inline; filename="{name}.md"'})


async def list_briefs(ctx: RequestContext[None, ListBriefsQuery]) -> JsonObject:
    q = ctx.query
    briefs, total = await (await _briefs(ctx)).page(scope_type=q.scope_type, limit=q.limit, offset=q.offset)
    return page_json([brief_to_json(b, content=False) for b in briefs], total, q.limit, q.offset)


async def get_brief(ctx: RequestContext[None, None]) -> JsonObject:
    return brief_to_json(await (await _briefs(ctx)).get(ctx.path["id"]), content=True)


async def download_brief(ctx: RequestContext[None, None]) -> Response:
    brief = await (await _briefs(ctx)).get(ctx.path["id"])
    return _markdown(brief.content, brief.slug or f"brief-{brief.id}")


async def brief_history(ctx: RequestContext[None, HistoryQuery]) -> JsonObject:
    brief, versions = await (await _briefs(ctx)).history(ctx.path["id"], limit=ctx.query.limit)
    return {"id": str(brief.id), "version": brief.version,
            "data": list[JsonValue](version_to_json(v) for v in versions)}


async def brief_by_context(ctx: RequestContext[None, None]) -> JsonObject:
    return brief_to_json(await (await _briefs(ctx)).by_context(ctx.path["context_id"]), content=True)


async def workspace_playbook(ctx: RequestContext[None, None]) -> JsonObject:
    return brief_to_json(await (await _briefs(ctx)).workspace(ctx.path["slug"]), content=True)


async def compile_brief(ctx: RequestContext[CompileBriefRequest, None]) -> JsonObject:
    compiled = await (await _briefs(ctx)).compile(ctx.body.context_id, private=ctx.body.is_private)
    return {**brief_to_json(compiled.brief, content=True), "status": compiled.outcome}


async def list_skills(ctx: RequestContext[None, ListSkillsQuery]) -> JsonObject:
    q = ctx.query
    skills, total = await (await _skills(ctx)).page(limit=q.limit, offset=q.offset)
    return page_json([skill_to_json(s, content=False) for s in skills], total, q.limit, q.offset)


async def get_skill(ctx: RequestContext[None, None]) -> JsonObject:
    return skill_to_json(await (await _skills(ctx)).get(ctx.path["id"]), content=True)


async def skill_by_slug(ctx: RequestContext[None, None]) -> JsonObject:
    return skill_to_json(await (await _skills(ctx)).by_slug(ctx.path["slug"]), content=True)


async def download_skill(ctx: RequestContext[None, None]) -> Response:
    skill = await (await _skills(ctx)).get(ctx.path["id"])
    return _markdown(skill.content, skill.slug)


async def compile_skills(ctx: RequestContext[CompileSkillsRequest, None]) -> JsonObject:
    done = await (await _skills(ctx)).compile(force=ctx.body.force)
    return {"created": done.created, "updated": done.updated, "unchanged": done.unchanged, "removed": done.removed,
            "total": len(done.skills), "data": list[JsonValue](skill_to_json(s, content=False) for s in done.skills)}
