"""A fake OpenAI-compatible endpoint for tests: a real HTTP server on loopback (``http.server``
in a thread) answering ``POST /v1/chat/completions`` from a script of canned replies: JSON
content, garbage, error statuses, slow answers. Only a paid third-party service may be faked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: ``content`` (a dict is sent as JSON text, a str as is) inside a chat
    completion, or a bare ``status`` with ``body``; ``delay_s`` before answering."""

    content: dict[str, Any] | str | None = None
    status: int = 200
    body: str = ""
    delay_s: float = 0.0


@dataclass
class FakeLLM:
    base_url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def script(self, *replies: Reply) -> None:
        self.replies[:] = list(replies)
        self.requests.clear()
        self.headers.clear()


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(payload)
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, "not found")
                return
            reply = fake.replies.pop(0) if fake.replies else Reply(status=500, body="no scripted reply")
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.status != 200 or reply.content is None:
                self._send(reply.status, reply.body)
                return
            content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
            completion = {"id": "chatcmpl-test", "object": "chat.completion", "model": payload.get("model"),
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": content}}]}
            self._send(200, json.dumps(completion), "application/json")

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

    return Handler


@contextmanager
def serve_fake_llm() -> Iterator[FakeLLM]:
    """A running fake endpoint; ``base_url`` is ``http://127.0.0.1:<port>/v1``."""
    fake = FakeLLM(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
