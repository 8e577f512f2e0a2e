"""The vocabulary the rule extractor reads text with: which mail domains are free, which hosts
are platforms rather than companies, which words make a title, a company name or a closing.

Pure data, all lowercase. Each list says what it is for; a word belongs here only when the
rules need to know it, never to make one text of the evaluation set pass.
"""

from __future__ import annotations

from typing import Final

FREE_MAIL_DOMAINS: Final = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
    "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com", "msn.com", "icloud.com",
    "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me", "gmx.de", "gmx.net",
    "gmx.com", "web.de", "t-online.de", "mail.com", "mail.ru", "yandex.ru", "yandex.com", "qq.com",
    "163.com", "126.com", "naver.com", "hanmail.net", "zoho.com", "fastmail.com", "hey.com",
    "tutanota.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "btinternet.com", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "rediffmail.com", "seznam.cz", "wp.pl", "o2.pl",
})
"""Mail providers anyone can sign up with: an address there says nothing about an employer."""

PLATFORM_DOMAINS: Final = frozenset({
    "linkedin.com", "lnkd.in", "twitter.com", "x.com", "t.co", "github.com", "gitlab.com", "facebook.com",
    "instagram.com", "youtube.com", "youtu.be", "tiktok.com", "medium.com", "substack.com",
    "google.com", "goo.gl", "bit.ly", "zoom.us", "teams.microsoft.com", "microsoft.com", "live.com",
    "calendly.com", "cal.com", "docusign.com", "docusign.net", "dropbox.com", "notion.so", "slack.com",
    "loom.com", "typeform.com", "hubspot.com", "wikipedia.org", "apple.com", "amazon.com", "g2.com",
    "capterra.com", "example.com", "example.org", "gstatic.com", "googleusercontent.com",
})
"""Hosts that appear in links and notification mail without being a company the text is about."""

ROLE_LOCAL_PARTS: Final = frozenset({
    "info", "hello", "hi", "contact", "sales", "support", "help", "team", "admin", "office", "billing",
    "accounts", "finance", "procurement", "purchasing", "hr", "jobs", "careers", "press", "media",
    "marketing", "noreply", "no-reply", "donotreply", "do-not-reply", "notifications", "notification",
    "mailer-daemon", "postmaster", "webmaster", "security", "legal", "privacy", "abuse", "feedback",
    "service", "customerservice", "partners", "invoices", "ops", "it", "dev", "engineering", "events",
})
"""Mailbox names of a function, not a person: such an address names no one."""

LEGAL_SUFFIXES: Final = (
    "inc", "inc.", "incorporated", "corp", "corp.", "corporation", "co", "co.", "llc", "l.l.c.", "ltd",
    "ltd.", "limited", "gmbh", "ag", "sa", "s.a.", "sas", "sarl", "bv", "b.v.", "nv", "plc", "pty",
    "oy", "ab", "as", "a/s", "srl", "s.r.l.", "spa", "s.p.a.", "kk", "kg", "lp", "llp", "pte", "sl",
)
"""Legal-form words that end a company name (``Acme, Inc.``, ``Zentro GmbH``)."""

COMPANY_HEADS: Final = frozenset({
    "group", "labs", "lab", "technologies", "technology", "tech", "systems", "software", "solutions",
    "health", "healthcare", "capital", "partners", "ventures", "holdings", "industries", "logistics",
    "robotics", "biosciences", "bio", "pharma", "pharmaceuticals", "therapeutics", "payments",
    "security", "foods", "energy", "energi", "hotels", "games", "retail", "freight", "shipping",
    "studio", "studios", "analytics", "creative", "bank", "media", "consulting", "agency", "networks",
    "insurance", "motors", "airlines", "aerospace", "dynamics", "digital", "interactive", "apparel",
    "dental", "clinic", "hospital", "foundation", "university", "brewing", "trading", "traders",
    "manufacturing", "construction", "realty", "properties", "finance", "financial", "investments",
    "entertainment", "communications", "telecom", "cloud", "data", "ai", "works", "collective",
    "company", "agro", "logística", "logistica", "grupo", "gruppe", "groupe",
    "farms", "farm", "textiles", "pharmacy", "aviation", "mobility", "coffee", "roasters", "bakery",
    "beverages", "brewery", "winery", "restaurants", "kitchen", "dairy", "organics",
    "fitness", "wellness", "medical", "clinics", "diagnostics", "genomics", "biotech",
    "automation", "electronics", "semiconductors", "devices", "instruments", "metals",
    "steel", "chemicals", "plastics", "materials", "mining", "oil", "gas", "power", "solar", "renewables",
    "utilities", "water", "environmental", "engineering", "architects", "design", "designs", "builders",
    "homes", "housing", "estates", "mortgage", "lending", "credit", "bancorp", "funds",
    "asset", "assets", "wealth", "advisors", "advisory", "accounting", "legal", "law", "associates",
    "education", "academy", "school", "learning", "publishing", "press", "news", "films", "pictures",
    "music", "records", "sports", "outdoor", "outdoors", "fashion", "cosmetics", "beauty",
    "jewelry", "furniture", "supply", "supplies", "distribution", "wholesale", "imports", "exports",
    "transport", "transportation", "trucking", "airways", "cargo", "marine", "maritime",
    "rail", "travel", "tours", "resorts", "hospitality", "events", "staffing", "recruitment",
    "talent", "marketing", "advertising", "insights", "research", "apps", "gaming", "telecommunications", "wireless",
    "broadband", "internet", "web", "hosting", "defense", "maschinenbau", "werke", "bau", "textil", "verlag",
    "banking", "pay", "mutual", "assurance", "underwriters", "precision", "produce", "grid",
})
"""Nouns that end (or, like grupo, start) many company names: ``Kestrel Robotics``, ``Orbital
Foods``. A capitalized phrase ending in one reads as a company where a name would be odd."""

COMPANY_PREFIXES: Final = frozenset({"grupo", "gruppo", "groupe", "banco", "studio"})

JOB_TITLE_WORDS: Final = frozenset({
    "ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cro", "cpo", "vp", "svp", "evp", "avp",
    "president", "vice", "founder", "co-founder", "cofounder", "owner", "partner", "principal",
    "director", "head", "chief", "manager", "lead", "engineer", "developer", "architect", "analyst",
    "consultant", "officer", "executive", "specialist", "coordinator", "administrator", "designer",
    "recruiter", "scientist", "associate", "representative", "rep", "ae", "sdr", "bdr", "advisor",
    "counsel", "controller", "treasurer", "secretary", "chair", "chairman", "chairwoman", "member",
    "intern", "assistant", "strategist", "buyer", "accountant", "editor", "producer", "champion",
})
"""Words that make a phrase a job title (``VP of Operations``, ``Account Executive``)."""

TITLE_QUALIFIERS: Final = frozenset({
    "senior", "sr", "sr.", "junior", "jr", "staff", "principal", "lead", "global", "regional",
    "general", "managing", "deputy", "associate", "assistant", "interim", "acting", "executive",
})

CLOSINGS: Final = (
    "best", "best regards", "kind regards", "warm regards", "regards", "thanks", "thank you", "thanks!",
    "many thanks", "cheers", "sincerely", "yours sincerely", "all the best", "talk soon", "br",
    "best wishes", "warmly", "respectfully", "thx", "ty", "--", "—", "-", "saludos", "grüße",
    "viele grüße", "mit freundlichen grüßen", "cordialement", "un saludo",
)
"""Lines that end the body of a mail: the lines after them are the sender's signature."""

GREETINGS: Final = ("hi", "hello", "hey", "dear", "hiya", "morning", "good morning",
                    "good afternoon", "hallo", "hola", "bonjour", "ciao")

HONORIFICS: Final = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam")

NOT_NAMES: Final = frozenset({
    # Words that start a capitalized phrase without it being anyone's name.
    "the", "a", "an", "this", "that", "these", "those", "our", "your", "their", "my", "his", "her",
    "its", "we", "you", "they", "he", "she", "it", "i", "i'm", "i'd", "i'll", "we're", "hi", "hello",
    "hey", "dear", "thanks", "thank", "best", "regards", "kind", "cheers", "sincerely", "re", "fw",
    "fwd", "subject", "from", "to", "cc", "bcc", "date", "sent", "when", "who", "where", "what",
    "why", "how", "attendees", "participants", "agenda", "notes", "note", "summary", "meeting",
    "call", "action", "items", "item", "next", "steps", "step", "highlights", "update", "ticket",
    "priority", "high", "low", "medium", "customer", "success", "account", "executive", "sales",
    "support", "team", "product", "demo", "pricing", "invoice", "contract", "proposal", "budget",
    "renewal", "forecast", "pipeline", "weekly", "quarterly", "monthly", "daily", "annual",
    "new", "old", "big", "great", "good", "quick", "heads", "up", "fyi", "ps", "pps", "ok", "okay",
    "yes", "no", "please", "let's", "lets", "closed", "won", "lost", "open", "status", "question",
    "questions", "invitation", "invitee", "event", "join", "zoom", "google", "microsoft", "teams",
    "slack", "linkedin", "twitter", "wechat", "whatsapp", "iphone", "android", "ios", "email",
    "phone", "mobile", "tel", "fax", "web", "website", "office", "hq", "inbound", "outbound",
    "feature", "request", "reporter", "shoutout", "congrats", "congratulations", "happy", "sorry",
    "unfortunately", "honestly", "just", "also", "and", "or", "but", "so", "if", "then", "per",
    "via", "with", "without", "about", "after", "before", "during", "at", "in", "on", "of", "for",
    "by", "as", "is", "are", "was", "were", "will", "would", "can", "could", "should", "may",
    "might", "must", "need", "needs", "wants", "want", "met", "spoke", "left", "lunch", "dinner",
    "coffee", "intro", "introduction", "security", "legal", "finance", "procurement", "operations",
    "engineering", "marketing", "data", "hr", "board", "series", "black", "friday", "cyber",
    "monday", "tuesday", "wednesday", "thursday", "saturday", "sunday", "january", "february",
    "march", "april", "june", "july", "august", "september", "october", "november",
    "december", "q1", "q2", "q3", "q4", "h1", "h2", "fy", "eu", "us", "uk", "usa", "api", "crm",
    "saas", "sso", "soc", "type", "ii", "mvp", "poc", "rfp", "rfq", "sow", "msa", "dpa", "nda",
    "roi", "arr", "mrr", "kpi", "okr", "qbr", "ama", "faq", "pdf", "cet", "pst", "pdt", "est",
    "utc", "gmt", "mst", "cst", "am", "pm", "tbd", "asap", "eod", "eow", "all", "hands", "any",
    "anyone", "everyone", "someone", "nobody", "each", "every", "both", "some", "most", "more",
    "strong", "interest", "interested", "confirmed", "done", "sounds", "reminder", "discovery",
    "enterprise", "starter", "pro", "plus", "premium", "basic", "standard", "solo", "free", "trial",
    "plan", "app", "dashboard", "reporting", "module", "integration", "platform",
    "research", "researching", "check", "out", "shipped", "code", "forwarded", "message",
    "original", "wrote", "reply", "replied", "fwd:", "re:", "contact", "company", "name",
    "heard", "got", "talked", "emailed", "called", "pinged", "texted", "asked", "told", "saw",
    "caught", "chatted", "followed", "reached", "booked", "scheduled", "shared", "added", "moved",
    "introducing", "meet", "welcome", "welcoming", "presenting", "present",
    "recap", "lead", "owner", "onsite", "offsite", "visit", "workshop", "kickoff", "webinar", "opened", "concern",
    "ask", "feedback", "visitor", "agent", "bot", "user", "guest", "host", "speaker", "operator", "declined",
    "accepted", "names", "notas", "reunión", "de", "la", "el", "los", "las", "y", "und", "der", "die", "das",
})
"""Capitalized words that are not (part of) a person's name in running text."""

NAME_PARTICLES: Final = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "le", "la",
    "bin", "binti", "al", "el", "ibn", "ter", "ten", "st.",
})
"""Lowercase words allowed inside a name (``Ludwig van Beethoven``, ``Maria de la Cruz``)."""

TOOLS: Final = frozenset({
    "linkedin", "twitter", "x", "github", "gitlab", "slack", "zoom", "teams", "google", "gmail",
    "outlook", "excel", "word", "powerpoint", "sheets", "docs", "drive", "dropbox", "wechat",
    "whatsapp", "telegram", "signal", "iphone", "ipad", "android", "mac", "windows", "calendly",
    "docusign", "loom", "youtube", "facebook", "instagram", "tiktok", "access", "jira", "confluence",
    "g2", "capterra", "trello", "asana", "figma", "miro", "webex", "skype", "discord",
    # programming languages, frameworks, developer tools and devices (``I love TypeScript``)
    "typescript", "javascript", "python", "rust", "golang", "kotlin", "java", "php", "scala", "elixir",
    "haskell", "clojure", "react", "react native", "vue", "angular", "svelte", "nodejs", "node.js", "django",
    "rails", "flask", "fastapi", "docker", "kubernetes", "terraform", "postgres", "postgresql", "mysql",
    "mongodb", "graphql", "webpack", "xcode", "vscode", "vs code", "macbook", "macbook pro", "macbook air",
    "airpods", "raspberry pi", "chatgpt", "copilot", "notion", "airtable", "canva", "kindle", "playstation",
})
"""Products, media and languages a text mentions in passing (``replied on WeChat``, ``found you
on G2``, ``I love TypeScript``); never reported as a company."""

PLACES: Final = frozenset({
    "london", "paris", "berlin", "munich", "hamburg", "madrid", "barcelona", "rome", "milan", "lisbon",
    "amsterdam", "brussels", "vienna", "zurich", "geneva", "stockholm", "oslo", "copenhagen",
    "helsinki", "dublin", "warsaw", "prague", "budapest", "athens", "istanbul", "moscow", "kyiv",
    "new york", "nyc", "san francisco", "sf", "los angeles", "la", "chicago", "boston", "seattle",
    "austin", "denver", "miami", "atlanta", "toronto", "vancouver", "montreal", "mexico city",
    "são paulo", "sao paulo", "rio", "buenos aires", "bogotá", "lima", "santiago", "tokyo", "osaka",
    "seoul", "beijing", "shanghai", "shenzhen", "hong kong", "singapore", "bangkok", "jakarta",
    "manila", "mumbai", "delhi", "bangalore", "bengaluru", "dubai", "abu dhabi", "riyadh", "doha",
    "tel aviv", "cairo", "lagos", "nairobi", "johannesburg", "cape town", "sydney", "melbourne",
    "auckland", "europe", "asia", "africa", "america", "emea", "apac", "latam", "americas",
})
"""Places a ``from X`` / ``at X`` phrase may name instead of a company: common cities and
regions (countries are recognized separately)."""

DEPARTMENTS: Final = frozenset({
    "sales", "marketing", "operations", "ops", "engineering", "product", "growth", "people", "talent",
    "design", "data", "finance", "it", "hr", "procurement", "purchasing", "partnerships", "support",
    "customer success", "success", "legal", "security", "strategy", "research", "analytics",
    "business development", "revenue", "revenue operations", "revops", "sales operations", "it security",
    "information security", "infrastructure", "platform", "customer experience", "cx", "accounting",
    "communications", "brand", "content", "recruiting", "compliance", "risk", "technology", "quality",
    "logistics", "supply chain", "manufacturing", "administration", "r&d", "innovation", "digital",
})
"""Teams named after a title (``Head of Revenue``, ``VP of Operations``): never a company."""
