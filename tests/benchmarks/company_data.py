"""Generated text of the benchmark workloads: seeded companies (names, domains, industries,
descriptions) and person names, the same for the same seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

_ONSETS = ("b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p",
           "pr", "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "io", "ou", "y")
_CODAS = ("", "", "", "n", "r", "l", "x", "s", "m", "th", "ck", "nt", "st")
COMPANY_SUFFIXES = ("Labs", "Systems", "Analytics", "Logistics", "Health", "Capital", "Software", "Foods",
                    "Robotics", "Energy", "Media", "Partners", "Group", "Consulting", "Networks", "Bank",
                    "Pharma", "Motors", "Studios", "Security", "Cloud", "Payments", "Insurance", "Retail",
                    "Biotech", "Solutions", "Holdings", "Technologies", "Works", "Digital")
LEGAL = ("", "", "", "", "Inc", "GmbH", "Ltd", "LLC", "SA", "BV", "AB", "Oy")
TLDS = ("com", "com", "com", "io", "co", "net", "de", "fr", "co.uk", "ai", "nl", "se")
INDUSTRIES = ("Fintech", "Healthcare", "Logistics", "Retail", "Manufacturing", "Insurance", "Energy", "Media",
              "Education", "Real estate", "Cybersecurity", "Biotech", "Food and beverage", "Automotive",
              "Telecommunications", "Travel", "Legal services", "Construction", "Agriculture", "Gaming")
_WHAT = ("platform", "marketplace", "API", "suite", "network", "service", "toolkit", "app", "engine", "studio")
_FOR = ("mid-size retailers", "hospitals", "freight forwarders", "independent pharmacies", "B2B sales teams",
        "restaurants", "utilities", "insurers", "universities", "law firms", "construction companies",
        "online stores", "car dealers", "farmers", "game studios", "banks", "airlines", "city councils")
_WHERE = ("in Germany", "across Europe", "in North America", "in the Nordics", "in France", "in the UK",
          "in Southeast Asia", "in Latin America", "worldwide", "in Spain", "in the Benelux", "in Japan")
_DOING = ("payments", "invoicing", "route planning", "inventory", "scheduling", "compliance", "fraud detection",
          "customer support", "analytics", "procurement", "payroll", "document signing", "forecasting",
          "energy monitoring", "claims processing", "recruiting")
FIRST_NAMES = ("Ada", "Alan", "Amara", "Anders", "Aisha", "Ben", "Bianca", "Carlos", "Chen", "Chloe", "Daniel",
               "Divya", "Elena", "Emil", "Fatima", "Felix", "Grace", "Hannah", "Hiro", "Ines", "Ivan", "Jamal",
               "Jana", "Jonas", "Julia", "Kai", "Karim", "Laura", "Lea", "Liam", "Lucas", "Maria", "Mateo",
               "Mei", "Mia", "Nadia", "Noah", "Nora", "Olga", "Omar", "Paula", "Pedro", "Priya", "Rafael",
               "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe",
               "Alice", "Arjun", "Bruno", "Camille", "Diego", "Eva", "Farah", "Georg", "Hugo", "Ingrid")
LAST_NAMES = ("Andersen", "Bauer", "Becker", "Costa", "Chen", "Dubois", "Eriksson", "Fischer", "Garcia",
              "Gupta", "Hansen", "Huber", "Ibrahim", "Jensen", "Kim", "Kowalski", "Larsen", "Lopez", "Martin",
              "Meyer", "Moreau", "Müller", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Quinn",
              "Raman", "Rossi", "Santos", "Schmidt", "Silva", "Smith", "Tanaka", "Torres", "Vogel", "Wagner",
              "Weber", "Wong", "Yilmaz", "Zimmermann", "Brown", "Nguyen", "Haddad", "Lindqvist", "Moretti",
              "O'Brien", "Kaur", "Sato", "Fernandez", "Dvořák", "Nowak", "Ahmed", "Bianchi", "Virtanen")
JOB_TITLES = ("Head of Operations", "VP Engineering", "CTO", "CFO", "Procurement Manager", "Office Manager",
              "Account Executive", "Head of IT", "Product Manager", "Data Analyst", "Founder", "COO",
              "Marketing Lead", "Sales Director", "Customer Success Manager", "Legal Counsel", "IT Administrator")


def brand_words(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct invented, pronounceable brand words (``Veltrano``, ``Quaxo``)."""
    words: dict[str, None] = {}
    while len(words) < count:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                       for _ in range(rng.choice((2, 2, 3))))
        if 4 <= len(word) <= 12:
            words[word.capitalize()] = None
    return list(words)


def description(rng: random.Random) -> str:
    return (f"{rng.choice(_DOING).capitalize()} {rng.choice(_WHAT)} for {rng.choice(_FOR)} "
            f"{rng.choice(_WHERE)}.")


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    description: str
    employee_count: int
    brand: str


def companies(count: int, seed: int = 7, *, brands_per: int = 40) -> Iterator[Company]:
    """``count`` companies with unique names and domains; each brand word is shared by about
    ``brands_per`` companies (``Veltrano Labs``, ``Veltrano Payments GmbH``), as real names are."""
    rng = random.Random(seed)
    brands = brand_words(max(50, count // brands_per + 1), rng)
    seen_names: set[str] = set()
    seen_domains: set[str] = set()
    made = 0
    while made < count:
        brand = rng.choice(brands)
        suffix = rng.choice(COMPANY_SUFFIXES)
        legal = rng.choice(LEGAL)
        name = f"{brand} {suffix}" + (f" {legal}" if legal else "")
        if name in seen_names:
            name = f"{brand} {rng.choice(COMPANY_SUFFIXES)} {suffix}"
            if name in seen_names:
                continue
        seen_names.add(name)
        base = f"{brand.lower()}{suffix.lower()[:rng.choice((0, 3, 20))]}"
        domain = f"{base}.{rng.choice(TLDS)}"
        number = 2
        while domain in seen_domains:
            domain = f"{base}{number}.{rng.choice(TLDS)}"
            number += 1
        seen_domains.add(domain)
        made += 1
        yield Company(name, domain, rng.choice(INDUSTRIES), description(rng),
                      int(rng.lognormvariate(4, 1.5)) + 1, brand)


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
