"""People, companies and the links between them, read by rules."""

from __future__ import annotations

import pytest

from workers.intelligence.companies import name_from_domain, name_matches_domain, strip_legal_suffix
from workers.intelligence.extractor import extract_entities
from workers.intelligence.names import local_part_matches, name_from_local_part


@pytest.mark.parametrize(("address", "name"), [
    ("john.smith@acme.com", "John Smith"),
    ("sarah_chen@techflow.io", "Sarah Chen"),
    ("tom.becker83@gmail.com", "Tom Becker"),
    ("j.martinez@hooli.xyz", None),
    ("jsmith@acme.com", None),
    ("info@acme.com", None),
])
def test_name_from_local_part(address: str, name: str | None) -> None:
    assert name_from_local_part(address) == name


@pytest.mark.parametrize(("address", "name", "expected"), [
    ("mross@pearsonhardman.com", "Mike Ross", True),
    ("kenji@shiftwise.com", "Kenji Watanabe", True),
    ("hana.k@sakuramobility.jp", "Hana Kobayashi", True),
    ("jose@x.com", "José Álvarez", True),
    ("kenji@shiftwise.com", "Mike Ross", False),
])
def test_local_part_spellings(address: str, name: str, expected: bool) -> None:
    assert local_part_matches(address, name) is expected


@pytest.mark.parametrize(("name", "domain", "expected"), [
    ("TechFlow", "techflow.io", True),
    ("Pinecrest Capital", "pinecrestcap.com", True),
    ("St. Brigid's Hospital Group", "stbrigids.org", True),
    ("Cedar & Pine Creative", "cedarpine.co", True),
    ("Zentro GmbH", "zentro.de", True),
    ("Mosaic", "getmosaic.io", True),
    ("Acme", "globex.com", False),
    ("Pine", "pinecrestcap.com", False),
])
def test_domain_spells_company_name(name: str, domain: str, expected: bool) -> None:
    assert name_matches_domain(name, domain) is expected


def test_domain_derived_names_and_legal_suffixes() -> None:
    assert name_from_domain("techflow.io") == "Techflow"
    assert name_from_domain("savanna-agro.sn") == "Savanna Agro"
    assert strip_legal_suffix("Acme, Inc.") == "Acme"
    assert strip_legal_suffix("Lagos Freight Ltd") == "Lagos Freight"


def test_signature_gives_name_title_company_and_contacts() -> None:
    text = ("Hi Dan,\n\nCould you send pricing?\n\nBest,\nJane Doe\nVP Sales, Acme Corp\njane.doe@acme.com\n"
            "+1 415 555 0132")
    result = extract_entities(text)
    jane = next(p for p in result.people if p.name == "Jane Doe")
    assert (jane.emails, jane.phones, jane.job_title, jane.company) == (
        ("jane.doe@acme.com",), ("+14155550132",), "VP Sales", "Acme Corp")
    assert [(c.name, c.domains) for c in result.companies] == [("Acme Corp", ("acme.com",))]
    assert [p.name for p in result.people] == ["Dan", "Jane Doe"]


def test_reversed_header_name() -> None:
    result = extract_entities('From: "Okafor, Chidi" <chidi.okafor@lagosfreight.ng>\n\nPlease confirm.')
    assert result.people[0].name == "Chidi Okafor"


def test_linkedin_comment_speaker_and_own_company() -> None:
    result = extract_entities('Marcus Rodriguez commented: "Would love to book a demo, we are rebuilding our '
                              'sales stack at Brightwave this quarter."')
    assert [(p.name, p.company) for p in result.people] == [("Marcus Rodriguez", "Brightwave")]


def test_name_next_to_domain_pairs_company_and_domain() -> None:
    result = extract_entities("Sarah from Acme (acme.com) introduced us to her former colleague at Globex, "
                              "Peter Gibbons.")
    assert [(c.name, c.domains) for c in result.companies] == [("Acme", ("acme.com",)), ("Globex", ())]
    assert [(p.name, p.company) for p in result.people] == [("Sarah", "Acme"), ("Peter Gibbons", "Globex")]


def test_domain_only_company_is_named_from_its_domain_and_person_links_by_domain() -> None:
    result = extract_entities("Contact: Olivia Brown, olivia@paperplane.app")
    assert [(c.name, c.domains) for c in result.companies] == [("Paperplane", ("paperplane.app",))]
    assert result.people[0].company == "paperplane.app"


def test_names_from_any_script_keep_their_spelling() -> None:
    result = extract_entities("Met with José Álvarez (Director of Operations) and Zhang Wei (CTO, Helix Biosciences).")
    assert [(p.name, p.job_title) for p in result.people] == [("José Álvarez", "Director of Operations"),
                                                           ("Zhang Wei", "CTO")]


@pytest.mark.parametrize("text", [
    "Their CFO pushed back on price and the CTO was excited about the API.",
    "We want to go live before Black Friday in New York.",
    "Quarterly pipeline review moved to the big conference room.",
    "Customer Success and Account Executive teams meet on Monday.",
])
def test_phrases_that_are_not_people(text: str) -> None:
    assert extract_entities(text).people == ()


def test_tools_and_places_are_not_companies() -> None:
    result = extract_entities("Zhang Wei replied on WeChat from Madrid; we met at SaaStr.")
    assert result.companies == ()


def test_competitor_cue_and_company_shapes() -> None:
    result = extract_entities("Kai Müller at Nordhaven said they already use Salesforce; Lagos Freight Ltd is next.")
    assert [c.name for c in result.companies] == ["Nordhaven", "Salesforce", "Lagos Freight Ltd"]
    assert [(p.name, p.company) for p in result.people] == [("Kai Müller", "Nordhaven")]
