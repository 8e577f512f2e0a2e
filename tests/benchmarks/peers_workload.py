"""The workload of ``bench_peers``: the collection every product gets (``FIELDS``, in each product's
native types), its seeded records (``generate_records``) and the wrk request scripts (Lua) for
single creates, gets by id and rotating queries."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

BATCH_SIZE = 1000
COLLECTION = "deals"

STAGES = ("Lead", "Qualified", "Proposal", "Won", "Lost")
REGIONS = ("NA East", "NA West", "EMEA North", "EMEA South", "APAC", "LATAM", "ANZ", "Africa")
WORDS = ("acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "tyrell", "cyberdyne",
         "soylent", "hooli", "piper", "vandelay", "kramerica", "dunder", "mifflin", "prestige",
         "oscorp", "massive", "dynamic", "north", "blue", "river", "summit", "quantum", "vertex")
NOTE_WORDS = ("call", "budget", "approved", "security", "review", "pending", "legal", "pricing",
              "champion", "decision", "demo", "scheduled", "follow", "up", "next", "quarter",
              "procurement", "signed", "renewal", "risk", "competitor", "discount", "timeline")
FIRST_CLOSE = date(2022, 1, 1)
CLOSE_DAYS = 6 * 365

# The field list every product gets, as (slug, kind); each product maps kinds to its own types.
FIELDS = (
    ("name", "text"), ("stage", "select"), ("amount", "decimal"), ("owner_email", "email"),
    ("region", "select"), ("score", "integer"), ("close_date", "date"), ("is_active", "boolean"),
    ("website", "url"), ("notes", "longtext"),
)
SELECT_OPTIONS = {"stage": STAGES, "region": REGIONS}
INDEXED = ("stage", "close_date")



def generate_records(seed: int, batch: int, size: int) -> list[dict[str, Any]]:
    """``size`` records, the same for the same arguments, in the plain form every product takes."""
    rng = random.Random(f"peers:{seed}:{batch}")
    out = []
    for i in range(size):
        n = batch * size + i
        word = WORDS[n % len(WORDS)]
        owner = rng.randrange(250)
        out.append({
            "name": f"{word.title()} {rng.choice(WORDS)} deal #{n}",
            "stage": rng.choice(STAGES),
            "amount": round(rng.lognormvariate(9.0, 1.2), 2),
            "owner_email": f"owner.{owner}@sales{owner % 7}.example.com",
            "region": rng.choice(REGIONS),
            "score": rng.randrange(101),
            "close_date": (FIRST_CLOSE + timedelta(days=rng.randrange(CLOSE_DAYS))).isoformat(),
            "is_active": rng.random() < 0.65,
            "website": f"https://www.{word}-{n}.com/",
            "notes": " ".join(rng.choices(NOTE_WORDS, k=6 + rng.randrange(30))).capitalize() + ".",
        })
    return out


def lua_list(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


# wrk request generator for single creates: the same distributions as generate_records, in Lua.
CREATE_LUA = """
local stages = __STAGES__
local regions = __REGIONS__
local words = __WORDS__
local note_words = __NOTE_WORDS__
local counter = 0
local tag = "__TAG__"
local prefix, suffix = __PREFIX__, __SUFFIX__
math.randomseed(__SEED__)
local function pick(list) return list[math.random(#list)] end
local function record()
  counter = counter + 1
  local word = pick(words)
  local owner = math.random(0, 249)
  local notes = {}
  for i = 1, 6 + math.random(0, 29) do notes[i] = pick(note_words) end
  return string.format(
    '{"name":"%s %s deal %s-%d","stage":"%s","amount":%.2f,"owner_email":"owner.%d@sales%d.example.com",' ..
    '"region":"%s","score":%d,"close_date":"%s","is_active":%s,"website":"https://www.%s-%s-%d.com/",' ..
    '"notes":"%s."}',
    word, pick(words), tag, counter, pick(stages), math.exp(9.0 + 1.2 * (math.random() * 2 - 1)),
    owner, owner % 7, pick(regions), math.random(0, 100),
    os.date("!%Y-%m-%d", 1640995200 + math.random(0, __CLOSE_DAYS__ - 1) * 86400),
    math.random() < 0.65 and "true" or "false", word, tag, counter, table.concat(notes, " "))
end
request = function()
  return wrk.format("POST", "__PATH__", nil, prefix .. record() .. suffix)
end
"""

GET_LUA = """
local ids = __IDS__
local n = #ids
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "__PATH__" .. ids[(i % n) + 1])
end
"""

ROTATE_LUA = """
local requests = __REQUESTS__
local n = #requests
local i = 0
request = function()
  i = i + 1
  local r = requests[(i % n) + 1]
  return wrk.format(r[1], r[2], nil, r[3])
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for our ASCII
