"""Texts for the context-extraction scenarios and the invariants checked after them."""

from __future__ import annotations

from typing import Any

import orjson

PEOPLE = [("Sarah", "Chen"), ("Priya", "Raman"), ("Tom", "Okafor"), ("Lena", "Fischer"), ("Marco", "Rossi"),
          ("Aiko", "Tanaka"), ("Omar", "Haddad"), ("Julia", "Novak"), ("Kwame", "Mensah"), ("Elena", "Petrova")]
COMPANIES = [("TechFlow", "techflow.io"), ("Globex", "globex.com"), ("Initech", "initech.com"),
             ("Hooli", "hooli.xyz"), ("Umbrella", "umbrella-corp.com")]
ARTIFACTS = 40


def email_text(i: int) -> str:
    first, last = PEOPLE[i % len(PEOPLE)]
    company, domain = COMPANIES[i % len(COMPANIES)]
    return (f"From: {first} {last} <{first.lower()}.{last.lower()}@{domain}>\n"
            f"To: Dan Miller <dan@ledgerly.com>\nSubject: Re: Pricing for the analytics add-on ({i})\n\n"
            f"Hi Dan,\n\nThanks for the walkthrough yesterday. Could you send over pricing for {10 + i} seats? "
            f"We'd like to have something signed before the end of Q{1 + i % 4}.\n\nBest,\n{first} {last}\n"
            f"VP of Operations, {company}\n")


async def context_invariants(deployment: Any) -> dict[str, int]:
    ws = int(deployment.workspace_id)
    emails = await deployment.attribute_id("person", "email_addresses")
    domains = await deployment.attribute_id("company", "domains")
    dup_query = ("SELECT count(*) FROM (SELECT v_text FROM record_values WHERE workspace_id = $1 AND attribute_id = $2 "
                 "AND facet = '' GROUP BY v_text HAVING count(DISTINCT record_id) > 1) d")
    person_names = await deployment.attribute_id("person", "name")
    wrong_insights = 0
    insights = {r["artifact_id"]: r["n"] for r in await deployment.sql(
        "SELECT artifact_id, count(*) AS n FROM insights WHERE workspace_id = $1 GROUP BY artifact_id", ws)}
    for row in await deployment.sql(
            "SELECT id, extraction FROM artifacts WHERE workspace_id = $1 AND status = 'completed'", ws):
        extraction = orjson.loads(row["extraction"]) if isinstance(row["extraction"], str) else row["extraction"]
        expected = len({(s["type"], s["content"]) for s in extraction["signals"]})
        wrong_insights += insights.get(row["id"], 0) != expected
    return {
        "people": int(await deployment.scalar(
            "SELECT count(*) FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
            "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug = 'person'", ws)),
        "insights": sum(insights.values()),
        "duplicate_people_by_email": int(await deployment.scalar(dup_query, ws, emails)),
        "duplicate_companies_by_domain": int(await deployment.scalar(dup_query, ws, domains)),
        "duplicate_people_by_name": int(await deployment.scalar(
            "SELECT count(*) FROM (SELECT lower(v_text) FROM record_values WHERE workspace_id = $1 "
            "AND attribute_id = $2 AND facet = '' GROUP BY lower(v_text) HAVING count(DISTINCT record_id) > 1) d",
            ws, person_names)),
        "artifacts_with_wrong_insight_count": wrong_insights,
    }
