"""The rule interpreter, the matcher and cron schedules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.notifications.schedule import ScheduleError, next_time, parse_schedule
from workers.intelligence.rule_interpreter import interpret_rule, match_text
from workers.notification_matching import Source, alert_sources, match_rule

SWITCH = "tell me when a customer mentions switching to a competitor"


def _matcher(description: str) -> dict[str, object]:
    matcher, _, _ = interpret_rule(description)
    assert matcher is not None
    return matcher


@pytest.mark.parametrize("text", [
    "Acme's CTO said they are evaluating a move to Salesforce next quarter.",
    "They plan to migrate to HubSpot after the summer.",
    "We are looking at alternative vendors.",
    "They signed with Pipedrive instead of us.",
    "Globex is considering other tools for next year.",
    "Their team wants to switch to Attio.",
    "Initech might leave us for a cheaper option.",
    "A competitor offered them 30% off.",
    "Umbrella may take their business elsewhere.",
])
def test_switching_paraphrases_match(text: str) -> None:
    assert match_text(_matcher(SWITCH), text) == "mentions switching to a competitor"


@pytest.mark.parametrize("text", [
    "Acme renewed for two years.",
    "We moved the meeting to Friday.",
    "The CEO is moving to London.",
    "The renewal is on track.",
    "Sarah loved the demo and wants pricing for 50 seats.",
])
def test_other_texts_do_not(text: str) -> None:
    assert match_text(_matcher(SWITCH), text) is None


def test_the_description_is_read_into_conditions() -> None:
    matcher, name, explanation = interpret_rule(SWITCH)
    assert matcher is not None and name == "A customer mentions switching to a competitor"
    assert matcher["concepts"] == ["competitor_switch"] and matcher["object_type"] == "company"
    assert "switching to a competitor" in explanation
    risks, _, _ = interpret_rule("alert me when any risks come up")
    assert risks is not None and risks["insight_types"] == ["risk"] and not risks["keywords"]
    words, _, _ = interpret_rule("let me know when Kubernetes is mentioned")
    assert words is not None and words["keywords"] == ["kubernetes"] and not words["concepts"]
    assert match_text(words, "They run Kubernetes on bare metal.") is not None
    assert match_text(words, "They run Nomad.") is None
    stage, _, _ = interpret_rule("tell me when a deal stage changes")
    assert stage is not None and stage["stage_change"] is True
    fintech, _, _ = interpret_rule("notify me if a fintech customer raises security concerns")
    assert fintech is not None and fintech["industries"] == ["fintech"] and fintech["concepts"] == ["security"]


@pytest.mark.parametrize("description", ["tell me", "notify me about stuff", "!!!", "let me know when something "
                                         "important happens", "alert me"])
def test_descriptions_naming_nothing_are_refused(description: str) -> None:
    matcher, _, why = interpret_rule(description)
    assert matcher is None and "names nothing to look for" in why


def _source(key: str, kind: str, text: str, *, group: str = "artifact:1", insight_type: str | None = None,
            slugs: tuple[str, ...] = (), stage_like: bool = False, entity_text: str = "") -> Source:
    return Source(key=key, group=group, kind=kind, text=text, cite={"kind": kind, "content": text},
                  insight_type=insight_type, object_slugs=slugs, stage_like=stage_like, entity_text=entity_text)


def test_one_match_per_group_citing_each_source_once() -> None:
    text = "Acme's CTO said they are evaluating a move to Salesforce next quarter."
    sources = [_source("insight:1", "insight", text, insight_type="risk", slugs=("company",)),
               _source("passage:1:0", "passage", text, slugs=("company",)),
               _source("passage:1:1", "passage", "Nothing else to report.", slugs=("company",)),
               _source("passage:2:0", "passage", "They want to switch to Attio.", group="artifact:2")]
    matches = match_rule(_matcher(SWITCH), sources)
    assert [(m.group, m.keys) for m in matches] == [("artifact:1", ["insight:1"]), ("artifact:2", ["passage:2:0"])]


def test_object_types_insight_types_and_industries_restrict() -> None:
    text = "They want to switch to Attio."
    about_a_deal = _source("passage:1:0", "passage", text, slugs=("deal",))
    about_nothing = _source("passage:2:0", "passage", text, group="artifact:2")
    assert [m.group for m in match_rule(_matcher(SWITCH), [about_a_deal, about_nothing])] == ["artifact:2"]
    risks = _matcher("alert me when any risks come up")
    sources = [_source("insight:1", "insight", "Budget is at risk.", insight_type="risk"),
               _source("insight:2", "insight", "They want a demo.", insight_type="buying_signal", group="artifact:2"),
               _source("passage:3:0", "passage", "Budget is at risk.", group="artifact:3")]
    assert [m.keys for m in match_rule(risks, sources)] == [["insight:1"]]
    fintech = _matcher("notify me if a fintech customer raises security concerns")
    bank = _source("passage:1:0", "passage", "They need a SOC 2 report.", slugs=("company",),
                   entity_text='{"industry": "Fintech"}')
    shop = _source("passage:2:0", "passage", "They need a SOC 2 report.", group="artifact:2", slugs=("company",),
                   entity_text='{"industry": "Retail"}')
    assert [m.group for m in match_rule(fintech, [bank, shop])] == ["artifact:1"]


def test_meaning_catches_what_words_miss() -> None:
    k8s = _matcher("let me know when Kubernetes is mentioned")
    source = _source("passage:1:0", "passage", "They run everything on k8s clusters.")
    assert match_rule(k8s, [source]) == []
    (match,) = match_rule(k8s, [source], similarity=lambda text: 0.5)
    assert "similarity 0.50" in str(match.cited[0]["reason"])


def test_alerts_take_the_enabled_types() -> None:
    sources = [_source("insight:1", "insight", "x", insight_type="risk"),
               _source("insight:2", "insight", "y", insight_type="buying_signal"),
               _source("change:1:stage", "change", "stage", stage_like=True),
               _source("change:1:description", "change", "description")]
    assert [s.key for s in alert_sources(["risk", "stage_change"], sources)] == ["insight:1", "change:1:stage"]
    assert [s.key for s in alert_sources(["entity_change"], sources)] == ["change:1:description"]
    assert alert_sources([], sources) == []


def test_schedules() -> None:
    after = datetime(2026, 1, 1, 10, 7, tzinfo=UTC)
    assert next_time(parse_schedule("*/15 * * * *"), after) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    assert next_time(parse_schedule("0 9 * * 1-5"), datetime(2026, 1, 3, tzinfo=UTC)) == \
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Saturday -> Monday
    assert next_time(parse_schedule("@daily"), after) == datetime(2026, 1, 2, tzinfo=UTC)
    assert next_time(parse_schedule("0 0 29 2 *"), after) == datetime(2028, 2, 29, tzinfo=UTC)
    assert next_time(parse_schedule("30 8 1,15 * *"), after) == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "says"), [
    ("* * *", "5 fields"), ("61 * * * *", "allows 0-59"), ("a * * * *", "not a number"), ("0 0 31 2 *", "never"),
    ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"), ("", "5 fields"), ("0 24 * * *", "allows 0-23"),
    ("0 0 * 13 *", "allows 1-12"), ("1,,2 * * * *", "empty"),
])
def test_bad_schedules_say_why(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_schedule(text)
