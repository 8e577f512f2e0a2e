"""Gmail messages as context artifacts: pure functions over the Gmail API's JSON (``users.messages``
resources, ``format=full`` or ``format=raw``), no I/O. An artifact's text is the message's
subject, sender, recipients, date and plain-text body, so extraction finds its people, companies
and signals the way it does in any text."""

from __future__ import annotations

import base64
import email
import email.policy
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

MAX_BODY_CHARS = 20_000
"""A longer body is cut (quoted history, signatures and legal footers add little but cost extraction)."""
MAX_HEADER_CHARS = 2_000
"""A longer header (a To of a thousand addresses) is cut: the artifact stays under its 100,000 characters."""
_HEADERS = ("Subject", "From", "To", "Cc", "Date")
_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.S | re.I)
_BLANKS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Email:
    message_id: str
    internal_date_ms: int | None
    headers: dict[str, str]
    body: str


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _strip_html(markup: str) -> str:
    return html.unescape(_TAGS.sub(" ", markup.replace("<br>", "\n").replace("</p>", "\n")))


def _walk(part: dict[str, Any], kind: str) -> str | None:
    """The first body of mime type ``kind`` in a ``MessagePart`` tree (depth-first)."""
    if part.get("mimeType") == kind:
        data = (part.get("body") or {}).get("data")
        if isinstance(data, str) and data:
            return _b64(data).decode("utf-8", errors="replace")
    for child in part.get("parts") or []:
        if isinstance(child, dict):
            found = _walk(child, kind)
            if found is not None:
                return found
    return None


def _from_raw(raw: str) -> tuple[dict[str, str], str]:
    parsed = email.message_from_bytes(_b64(raw), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    headers = {name: str(parsed[name]) for name in _HEADERS if parsed[name] is not None}
    body_part = parsed.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        content = body_part.get_content()
        body = content if isinstance(content, str) else ""
        if body_part.get_content_subtype() == "html":
            body = _strip_html(body)
    return headers, body


def parse_message(message: dict[str, Any]) -> Email | None:
    """A Gmail ``Message`` resource as an ``Email``; None when it has no id. Raises ``ValueError``
    for a body that is not base64url (the caller skips the message)."""
    message_id = message.get("id")
    if not isinstance(message_id, str) or not message_id:
        return None
    raw_date = message.get("internalDate")
    internal = int(raw_date) if isinstance(raw_date, (str, int)) and str(raw_date).isdigit() else None
    if isinstance(message.get("raw"), str):
        headers, body = _from_raw(message["raw"])
    else:
        payload = message.get("payload") or {}
        headers = {}
        for header in payload.get("headers") or []:
            name, value = header.get("name"), header.get("value")
            for wanted in _HEADERS:
                if isinstance(name, str) and name.lower() == wanted.lower() and isinstance(value, str):
                    headers.setdefault(wanted, value)
        body = _walk(payload, "text/plain") or ""
        if not body:
            markup = _walk(payload, "text/html")
            body = _strip_html(markup) if markup else ""
    if not body.strip():
        snippet = message.get("snippet")
        body = html.unescape(snippet) if isinstance(snippet, str) else ""
    body = _BLANKS.sub("\n\n", body.replace("\r\n", "\n")).strip()
    return Email(message_id, internal, {k: v[:MAX_HEADER_CHARS] for k, v in headers.items()}, body[:MAX_BODY_CHARS])


def artifact_text(mail: Email) -> str:
    """The artifact's content: the headers that say who and when, then the body."""
    lines = [f"{name}: {mail.headers[name]}" for name in _HEADERS if mail.headers.get(name)]
    return ("\n".join(lines) + "\n\n" + mail.body).strip() or f"(empty message {mail.message_id})"


def artifact_context(mail: Email, account: str) -> str:
    return f"Email from the Gmail account {account} (message {mail.message_id})"[:2000]


def list_query(*, after_ms: int, extra: str) -> str:
    """The ``q`` of ``users.messages.list``: messages after a moment (a minute earlier, as Gmail's
    ``after:`` works in seconds; the message-id key makes the overlap harmless) plus the
    operator's own filter."""
    seconds = max(0, after_ms // 1000 - 60)
    return " ".join(part for part in (f"after:{seconds}", extra.strip()) if part)


def initial_after_ms(now: datetime, days: int) -> int:
    return int((now - timedelta(days=days)).timestamp() * 1000)
