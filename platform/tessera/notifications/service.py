"""Notification preferences, custom rules and the feed: the rules of each, over the repository."""

from __future__ import annotations

from datetime import datetime

from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, NotFound, ServiceUnavailable
from tessera.notifications import repository as store
from tessera.notifications.interpreter import RuleInterpreterPort
from tessera.notifications.models import (
    ALERT_TYPES,
    DEFAULT_SCHEDULE,
    MAX_NAME_CHARS,
    CreateCustomNotificationRuleRequest,
    FeedQuery,
    UpdateNotificationPreferencesRequest,
)
from tessera.notifications.repository import FeedItem, PreferenceChanges, Preferences, Rule
from tessera.notifications.schedule import ScheduleError, next_time, parse_schedule
from tessera.quotas import Quota, check_count


def check_types(types: list[str]) -> list[str]:
    """The alert types, deduplicated in the order of ``ALERT_TYPES``; 400 naming an unknown one."""
    for index, kind in enumerate(types):
        if kind not in ALERT_TYPES:
            raise BadRequest(f"Unknown notification type '{kind[:60]}'; known types: {', '.join(ALERT_TYPES)}",
                             errors=[FieldError(f"enabled_types[{index}]", "unknown notification type")])
    return [kind for kind in ALERT_TYPES if kind in types]


def plan_preferences(current: Preferences, body: UpdateNotificationPreferencesRequest) -> PreferenceChanges:
    """The columns a PATCH sets. ``digest_enabled`` and the ``digest`` type are one switch: either
    sets the other, and a body where they disagree is refused. Pure."""
    changes: PreferenceChanges = {}
    if body.frequency_minutes is not None:
        changes["frequency_minutes"] = body.frequency_minutes
    types = check_types(body.enabled_types) if body.enabled_types is not None else None
    digest = body.digest_enabled
    if types is not None and digest is not None and ("digest" in types) != digest:
        raise BadRequest("digest_enabled and the 'digest' entry of enabled_types disagree; send one of them",
                         errors=[FieldError("digest_enabled", "contradicts enabled_types")])
    if types is None and digest is not None:
        types = [kind for kind in current.enabled_types if kind != "digest"] + (["digest"] if digest else [])
        types = [kind for kind in ALERT_TYPES if kind in types]
    if types is not None:
        changes["enabled_types"] = types
        changes["digest_enabled"] = "digest" in types
    return changes


def rule_name(description: str, suggested: str) -> str:
    name = " ".join((suggested or description).split())
    return name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS - 1].rsplit(" ", 1)[0] + "…"


class NotificationService:
    def __init__(self, tenant: Tenant, now: datetime, *, interpreter: RuleInterpreterPort | None = None,
                 rule_quota: Quota | None = None) -> None:
        self.tenant = tenant
        self.now = now
        self.interpreter = interpreter
        self.rule_quota = rule_quota

    async def preferences(self) -> Preferences:
        return store.preferences(await store.ensure_preferences(self.tenant))

    async def update_preferences(self, body: UpdateNotificationPreferencesRequest) -> Preferences:
        current = store.preferences(await store.ensure_preferences(self.tenant, lock=True))
        changes = plan_preferences(current, body)
        if not changes:
            return current
        return await store.update_preferences(self.tenant, changes, self.now)

    async def feed(self, query: FeedQuery) -> list[FeedItem]:
        """One page of the feed. Polling with ``since`` acknowledges what came before it: the
        items sent at or before ``since`` become read."""
        if query.since is not None:
            await store.mark_read_through(self.tenant, query.since, self.now)
        return await store.feed(self.tenant, since=query.since, limit=query.limit)

    async def rules(self) -> list[Rule]:
        return await store.list_rules(self.tenant)

    async def rule(self, rule_id: int | None) -> Rule:
        rule = await store.get_rule(self.tenant, rule_id) if rule_id is not None else None
        if rule is None:
            raise NotFound("Custom notification rule not found")
        return rule

    async def create_rule(self, rule_id: int, body: CreateCustomNotificationRuleRequest) -> Rule:
        """Read the description into a matcher (400 saying why when it names no condition) and
        check the schedule (400 saying what is wrong); at most ``rule_quota`` rules (409)."""
        if self.interpreter is None:
            raise ServiceUnavailable("The rule interpreter is not available in this process", retry_after=5)
        text = body.schedule if body.schedule is not None else DEFAULT_SCHEDULE
        try:
            schedule = parse_schedule(text)
        except ScheduleError as err:
            raise BadRequest(f"Invalid schedule: {err}", errors=[FieldError("schedule", str(err))]) from err
        reading = self.interpreter.interpret_rule(body.description)
        if reading.matcher is None:
            raise BadRequest(f"Cannot read a notification condition from the description: {reading.explanation}",
                             errors=[FieldError("description", reading.explanation)])
        if self.rule_quota is not None:
            check_count(await store.count_rules(self.tenant), self.rule_quota)
        next_run = next_time(schedule, self.now)
        assert next_run is not None  # parse_schedule refuses schedules that never fire
        return await store.insert_rule(
            self.tenant, rule_id, name=rule_name(body.description, body.name or reading.name),
            prompt=body.description, matcher=reading.matcher, is_enabled=body.is_enabled, schedule=schedule.text,
            next_run_at=next_run, now=self.now)

    async def delete_rule(self, rule_id: int | None) -> None:
        if rule_id is None or not await store.delete_rule(self.tenant, rule_id):
            raise NotFound("Custom notification rule not found")
