"""Addresses, phones, domains and profiles: found, normalized, told apart from look-alikes."""

from __future__ import annotations

from workers.intelligence.extractor import extract_entities
from workers.intelligence.identifiers import (
    find_domains,
    find_emails,
    find_phones,
    find_social_profiles,
    is_company_domain,
    is_role_address,
)


def test_emails_are_lowercased_and_lose_trailing_punctuation() -> None:
    text = "Write to John.Smith@Acme.COM. Or (jane@globex.co.uk), thanks!"
    assert [f.value for f in find_emails(text)] == ["john.smith@acme.com", "jane@globex.co.uk"]


def test_an_address_without_a_public_suffix_is_not_an_email() -> None:
    assert find_emails("ping admin@localhost or build@ci.internalx") == []


def test_phones_become_e164_and_dates_or_ids_do_not() -> None:
    text = "Call +1 (415) 555-0132 or +49 30 1234567. Ticket #48213 opened 2025-09-30 at 09:40."
    assert [f.value for f in find_phones(text)] == ["+14155550132", "+49301234567"]


def test_links_and_bare_domains_reduce_to_registered_domains() -> None:
    text = "See https://www.kestrelrobotics.com/about and techflow.io, not setup.py or notes.md."
    assert [f.value for f in find_domains(text, [])] == ["kestrelrobotics.com", "techflow.io"]


def test_free_mail_and_platform_hosts_are_not_companies() -> None:
    assert not is_company_domain("gmail.com")
    assert not is_company_domain("linkedin.com")
    assert not is_company_domain("zoom.us")
    assert is_company_domain("acme.com")


def test_free_mail_person_gets_no_company() -> None:
    result = extract_entities("From: Tom Becker <tom.becker83@gmail.com>\n\nI'm interested in the Solo plan.")
    assert [(p.name, p.emails, p.company) for p in result.people] == [("Tom Becker", ("tom.becker83@gmail.com",), None)]
    assert result.companies == ()


def test_role_addresses_name_no_one_but_their_domain_is_a_company() -> None:
    assert is_role_address("no-reply@calendly.com") and is_role_address("Sales@acme.com")
    assert not is_role_address("sarah@acme.com")
    result = extract_entities("Procurement (procurement@riverstonebank.com) will reach out.")
    assert result.people == ()
    assert [c.domains for c in result.companies] == [("riverstonebank.com",)]


def test_profiles_are_canonical_and_repositories_are_not_profiles() -> None:
    text = "linkedin.com/in/tariqmahmood, https://twitter.com/jane_doe?ref=1 and github.com/orbitaldev/ledgerly-sync"
    assert [f.value for f in find_social_profiles(text)] == [
        "https://www.linkedin.com/in/tariqmahmood", "https://x.com/jane_doe"]


def test_profile_and_phone_go_to_the_person_named_before_them() -> None:
    result = extract_entities("Message from Tariq Mahmood (linkedin.com/in/tariqmahmood), mobile +44 20 7946 0958.")
    (person,) = result.people
    assert person.social_profiles == ("https://www.linkedin.com/in/tariqmahmood",)
    assert person.phones == ("+442079460958",)
