"""The pure parts of briefs and skills: rendering, hashing, section diffs, the debounce rule,
slugs and skill frontmatter, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tessera.briefs.compose import BriefInputs, NoteLine, TaskLine, compose_brief, format_value
from tessera.briefs.document import (
    diff_sections,
    digest_sections,
    hash_inputs,
    slugify,
    summarize_changes,
    to_markdown,
)
from tessera.briefs.gather import describe_event, evidence_records
from tessera.briefs.refresh import RefreshPolicy, is_due
from tessera.briefs.skills import assign_slugs, choose_tools, compose_skill, parse_frontmatter
from tessera.compounding.rules import PlaybookRule
from tessera.timeline.repository import TimelineEvent

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def inputs(**changes: object) -> BriefInputs:
    fields: dict[str, object] = {
        "record_id": 7, "name": "Acme", "object_name": "Company", "object_slug": "company", "attributes": (),
        "relationships": (), "insights": (), "notes": (), "tasks": (), "timeline": (), "mentions": ()}
    fields.update(changes)
    return BriefInputs(**fields)  # type: ignore[arg-type]


def make_rule(rule_id: int, title: str, **changes: object) -> PlaybookRule:
    fields: dict[str, object] = {
        "id": rule_id, "fingerprint": f"f{rule_id}", "pattern_id": None, "title": title,
        "trigger": "a prospect raises a security review", "action": "send the SOC 2 report within a day",
        "evidence": ({"record_id": "5", "quote": "security review"},), "support": 3, "confidence": 0.6,
        "status": "active", "created_at": NOW, "updated_at": NOW}
    fields.update(changes)
    return PlaybookRule(**fields)  # type: ignore[arg-type]


def test_equal_inputs_hash_equal_and_empty_sections_are_left_out() -> None:
    doc = compose_brief(inputs())
    assert [s.key for s in doc.sections] == ["summary"]
    assert hash_inputs(doc) == hash_inputs(compose_brief(inputs()))
    noted = compose_brief(inputs(notes=(NoteLine(3, "Call", "Wants SSO", NOW),)))
    assert hash_inputs(noted) != hash_inputs(doc)
    assert "- **Call** (2026-12-03): Wants SSO [note 3]" in to_markdown(noted)


def test_section_diff_and_summary() -> None:
    before = digest_sections(compose_brief(inputs(notes=(NoteLine(3, "Call", "", NOW),))))
    after = digest_sections(compose_brief(inputs(tasks=(TaskLine(4, "Send it", "high", None),))))
    changes = diff_sections(before, after)
    assert changes == {"added": ["Open tasks"], "removed": ["Notes"], "changed": ["Summary"]}
    assert summarize_changes(changes, first=False) == "Added Open tasks; removed Notes; changed Summary."
    assert summarize_changes(diff_sections(after, after), first=True) == "First version."


@pytest.mark.parametrize(("value", "text"), [
    (["a@x.com", "b@x.com"], "a@x.com, b@x.com"), ({"amount": 1200, "currency_code": "USD"}, "1200 USD"),
    ({"city": "Paris", "country_code": "FR"}, "Paris, FR"), (True, "yes"), (None, ""), (3.5, "3.5"),
])
def test_values_read_as_text(value: object, text: str) -> None:
    assert format_value(value) == text  # type: ignore[arg-type]


def test_the_debounce_waits_for_quiet_or_the_longest_wait() -> None:
    policy = RefreshPolicy(threshold=3, quiet=timedelta(seconds=30), max_wait=timedelta(minutes=10))
    assert not is_due(2, NOW - timedelta(hours=1), NOW - timedelta(hours=1), NOW, policy)
    assert not is_due(3, NOW - timedelta(seconds=40), NOW - timedelta(seconds=5), NOW, policy)
    assert is_due(3, NOW - timedelta(seconds=40), NOW - timedelta(seconds=31), NOW, policy)
    assert is_due(9, NOW - timedelta(minutes=11), NOW - timedelta(seconds=1), NOW, policy)


def test_timeline_events_are_described() -> None:
    update = TimelineEvent(1, "entity", 7, "updated", {"field_changes": [{"field_name": "stage"}]}, "a", "b", NOW)
    note = TimelineEvent(2, "note", 9, "created", {"note": {"title": "Call recap"}}, "a", "b", NOW)
    assert describe_event(update) == "entity updated: stage"
    assert describe_event(note) == "note created: Call recap"
    assert evidence_records(({"record_id": "5"}, {"record_id": 5}, {"record_id": "x"}, "loose")) == [5]


def test_slugs_are_distinct_and_safe() -> None:
    assert slugify("Security review: send SOC 2!") == "security-review-send-soc-2"
    assert slugify("***") == "untitled"
    rules = [make_rule(1, "Security review"), make_rule(2, "Security review")]
    assert assign_slugs(rules) == {1: "security-review", 2: "security-review-2"}


def test_skill_frontmatter_parses_back() -> None:
    skill = compose_skill(make_rule(1, "Security review"), "security-review", (), ())
    front = parse_frontmatter(skill.content)
    assert front["slug"] == "security-review" and front["confidence"] == 0.6 and front["support"] == 3
    assert {"method": "POST", "path": "/v1/tasks",
            "purpose": "create the follow-up task, linked to the record, with its due date"} in front["tools"]
    assert skill.input_hash == compose_skill(make_rule(1, "Security review"), "security-review", (), ()).input_hash
    assert ("PATCH", "/v1/records/{record_id}") in {
        (t.method, t.path) for t in choose_tools(make_rule(3, "Stage", action="move the deal stage to Negotiation"))}
    assert parse_frontmatter("no frontmatter") == {}
