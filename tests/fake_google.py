"""A fake Google for integration tests: a real HTTP server on loopback (``http.server`` in a thread)
speaking the documented protocols Tessera uses, so the whole connect and sync path runs for real:

- OAuth 2.0 (https://developers.google.com/identity/protocols/oauth2/web-server): ``GET /authorize``
  answers 302 to the ``redirect_uri`` with a ``code`` and the ``state``; ``POST /token`` exchanges a
  code (``authorization_code``: client, redirect URI and PKCE S256 verifier checked, the code used
  once) or a refresh token (``refresh_token``); ``POST /revoke`` revokes a token (RFC 7009).
- Gmail API v1 (https://developers.google.com/gmail/api/reference/rest): ``users.getProfile``,
  ``users.messages.list`` (``q`` with ``after:<epoch seconds>``, ``maxResults``, ``pageToken``) and
  ``users.messages.get`` (``format=full``), behind ``Authorization: Bearer``.

Accounts are picked with ``login_hint`` on the authorize URL; each test uses its own address."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

CLIENT_ID = "tessera-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret-do-not-leak"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Message:
    id: str
    internal_ms: int
    subject: str
    sender: str
    to: str
    body: str
    history_id: str = "1"

    def resource(self) -> dict[str, Any]:
        headers = [{"name": "Subject", "value": self.subject}, {"name": "From", "value": self.sender},
                   {"name": "To", "value": self.to}, {"name": "Date", "value": "Tue, 1 Dec 2026 10:00:00 +0000"},
                   {"name": "Message-ID", "value": f"<{self.id}@mail.test>"}]
        return {"id": self.id, "threadId": f"t{self.id}", "labelIds": ["INBOX"], "snippet": self.body[:80],
                "historyId": self.history_id, "internalDate": str(self.internal_ms), "sizeEstimate": len(self.body),
                "payload": {"partId": "", "mimeType": "multipart/alternative", "filename": "", "headers": headers,
                            "body": {"size": 0},
                            "parts": [{"partId": "0", "mimeType": "text/plain", "filename": "",
                                       "headers": [{"name": "Content-Type", "value": "text/plain; charset=UTF-8"}],
                                       "body": {"size": len(self.body), "data": _b64url(self.body.encode())}},
                                      {"partId": "1", "mimeType": "text/html", "filename": "",
                                       "headers": [{"name": "Content-Type", "value": "text/html; charset=UTF-8"}],
                                       "body": {"size": 0, "data": _b64url(f"<p>{self.body}</p>".encode())}}]}}


@dataclass
class Grant:
    account: str
    refresh_token: str
    revoked: bool = False


@dataclass
class FakeGoogle:
    base_url: str = ""
    mailboxes: dict[str, list[Message]] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: dict[str, Grant] = field(default_factory=dict)
    """Access token -> its grant (removed when it expires)."""
    grants: dict[str, Grant] = field(default_factory=dict)  # refresh token -> grant
    token_calls: list[dict[str, str]] = field(default_factory=list)
    """Every ``POST /token`` form (secrets included: for the test to check what was sent)."""
    revoked: list[str] = field(default_factory=list)
    issued: list[tuple[str, str]] = field(default_factory=list)
    """Every access token issued: account, token."""
    gmail_calls: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    """Every Gmail API call: path, query, the status answered."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_message(self, account: str, message: Message) -> None:
        with self.lock:
            self.mailboxes.setdefault(account, []).append(message)

    def expire_access_tokens(self, account: str) -> None:
        """Every access token of ``account`` stops working (as one past its expiry does)."""
        with self.lock:
            for token in [t for t, g in self.access_tokens.items() if g.account == account]:
                del self.access_tokens[token]

    def grant_types(self, account: str) -> list[str]:
        with self.lock:
            accounts = {g.refresh_token: g.account for g in self.grants.values()}
            codes = {c: v["account"] for c, v in self.codes.items()}
            return [f["grant_type"] for f in self.token_calls
                    if accounts.get(f.get("refresh_token", "")) == account or codes.get(f.get("code", "")) == account]

    # -- protocol --

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code" or not redirect:
            return 400, {}, "invalid_request"
        if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            return 400, {}, "invalid_request: PKCE S256 required"
        code = "4/" + secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"account": query.get("login_hint", "someone@mail.test"), "redirect_uri": redirect,
                                "challenge": query["code_challenge"], "scope": query.get("scope", ""), "used": ""}
        location = redirect + ("&" if "?" in redirect else "?") + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": location}, ""

    def _issue(self, grant: Grant, scope: str, *, with_refresh: bool) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[access] = grant
        self.issued.append((grant.account, access))
        claims = _b64url(json.dumps({"iss": "https://accounts.google.com", "email": grant.account}).encode())
        answer: dict[str, Any] = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                                  "scope": scope, "id_token": f"{_b64url(b'{}')}.{claims}.sig"}
        if with_refresh:
            answer["refresh_token"] = grant.refresh_token
        return answer

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_calls.append(form)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") == "authorization_code":
                issued = self.codes.get(form.get("code", ""))
                verifier = form.get("code_verifier", "")
                if issued is None or issued["used"] or issued["redirect_uri"] != form.get("redirect_uri") \
                        or _b64url(hashlib.sha256(verifier.encode()).digest()) != issued["challenge"]:
                    return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
                issued["used"] = "yes"
                grant = Grant(issued["account"], "1//" + secrets.token_urlsafe(24))
                self.grants[grant.refresh_token] = grant
                return 200, self._issue(grant, issued["scope"], with_refresh=True)
            if form.get("grant_type") == "refresh_token":
                grant_or_none = self.grants.get(form.get("refresh_token", ""))
                if grant_or_none is None or grant_or_none.revoked:
                    return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
                return 200, self._issue(grant_or_none, "", with_refresh=False)
            return 400, {"error": "unsupported_grant_type"}

    def revoke(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        token = form.get("token", "")
        with self.lock:
            grant = self.grants.get(token) or self.access_tokens.get(token)
            if grant is None or grant.revoked:
                return 400, {"error": "invalid_token"}
            grant.revoked = True
            for access in [t for t, g in self.access_tokens.items() if g is grant]:
                del self.access_tokens[access]
            self.revoked.append(grant.account)
        return 200, {}

    def gmail(self, path: str, query: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            grant = self.access_tokens.get(authorization.removeprefix("Bearer "))
            self.gmail_calls.append((path, query, 401 if grant is None or grant.revoked else 200))
            if grant is None or grant.revoked:
                return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                       "status": "UNAUTHENTICATED"}}
            box = sorted(self.mailboxes.get(grant.account, []), key=lambda m: -m.internal_ms)
        if path == "/gmail/v1/users/me/profile":
            return 200, {"emailAddress": grant.account, "messagesTotal": len(box), "threadsTotal": len(box),
                         "historyId": "100"}
        if path == "/gmail/v1/users/me/messages":
            for term in query.get("q", "").split():
                if term.startswith("after:"):
                    after_s = int(term.removeprefix("after:"))
                    box = [m for m in box if m.internal_ms // 1000 > after_s]
            size = min(int(query.get("maxResults", "100")), 500)
            start = int(query.get("pageToken", "0") or 0)
            page = box[start:start + size]
            answer: dict[str, Any] = {"resultSizeEstimate": len(box)}
            if page:
                answer["messages"] = [{"id": m.id, "threadId": f"t{m.id}"} for m in page]
            if start + size < len(box):
                answer["nextPageToken"] = str(start + size)
            return 200, answer
        prefix = "/gmail/v1/users/me/messages/"
        if path.startswith(prefix):
            for message in box:
                if message.id == path.removeprefix(prefix):
                    return 200, message.resource()
        return 404, {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}


def _handler(fake: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
            raw = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/authorize":
                status, headers, text = fake.authorize(query)
                self._send(status, text, headers)
            else:
                self._send(*fake.gmail(url.path, query, self.headers.get("Authorization", "")))

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            if path == "/token":
                self._send(*fake.token(self._form()))
            elif path == "/revoke":
                self._send(*fake.revoke(self._form()))
            else:
                self._send(404, {"error": "not_found"})

    return Handler


@contextmanager
def serve_fake_google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-google", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def google_settings(fake: FakeGoogle) -> dict[str, str]:
    """The settings that point Tessera's Google integration at ``fake``."""
    return {"google_client_id": CLIENT_ID, "google_client_secret": CLIENT_SECRET,
            "google_authorize_url": f"{fake.base_url}/authorize", "google_token_url": f"{fake.base_url}/token",
            "google_revoke_url": f"{fake.base_url}/revoke", "google_api_base_url": fake.base_url}
