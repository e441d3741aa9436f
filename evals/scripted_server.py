"""A scripted OpenAI-compatible HTTP server for tests (stdlib only), on 127.0.0.1 and a free port.

    with FakeOpenAI() as server:                       # server.url == "http://127.0.0.1:PORT/v1"
        server.enqueue(embedding_reply([[0.1, 0.2]]))  # next request gets this JSON body
        server.enqueue(Reply(status=500))              # ... then an HTTP 500
        server.enqueue(Reply(delay=2.0, body={...}))   # ... then a slow answer
        server.enqueue(Reply(raw=b"{not json"))        # ... then a malformed body
        server.set_default(auto_embeddings(dim=8))     # when the queue is empty
        ...
        server.requests                                # [(method, path, json body, headers)], in order
                                                       # (header names lower-cased)
        server.reset()                                 # empty script, no default, no requests

Queued replies are served in order whatever the path; with an empty queue the default handler answers
(or a 500 explaining that nothing was scripted)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response: a JSON `body` (dict/list) or `raw` bytes, a status, an optional delay."""

    body: Any = None
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return json.dumps({"error": {"message": f"scripted status {self.status}", "type": "server_error",
                                         "code": self.status}}).encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


Handler = Callable[[str, dict[str, Any]], "Reply | dict[str, Any]"]


def embedding_reply(vectors: list[list[float]], model: str = "fake-embedding") -> dict[str, Any]:
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0}}


def chat_reply(content: str | None = None, tool_calls: list[dict[str, Any]] | None = None,
               model: str = "fake-chat", finish_reason: str | None = None) -> dict[str, Any]:
    """A chat.completions response; `tool_calls` items: {"id", "name", "arguments" (dict or JSON string)}."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [{"id": t.get("id", f"call_{i}"), "type": "function", "function": {
            "name": t["name"], "arguments": t["arguments"] if isinstance(t["arguments"], str)
            else json.dumps(t["arguments"], ensure_ascii=False)}} for i, t in enumerate(tool_calls)]
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def fake_vector(text: str, dim: int = 8) -> list[float]:
    """A deterministic unit-ish vector for a text (same text, same vector)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dim)]


def auto_embeddings(dim: int = 8) -> Handler:
    """Default handler answering every /embeddings request with `fake_vector` of each input."""
    def handle(path: str, body: dict[str, Any]) -> Reply | dict[str, Any]:
        if not path.endswith("/embeddings"):
            return Reply(status=404, body={"error": {"message": f"no scripted reply for {path}"}})
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        return embedding_reply([fake_vector(str(t), dim) for t in texts], body.get("model", "fake-embedding"))
    return handle


class FakeOpenAI:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []
        self._queue: deque[Reply] = deque()
        self._default: Handler | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------------------- script

    def enqueue(self, *responses: Reply | dict[str, Any]) -> None:
        with self._lock:
            for r in responses:
                self._queue.append(r if isinstance(r, Reply) else Reply(body=r))

    def set_default(self, handler: Handler | None) -> None:
        self._default = handler

    @property
    def pending(self) -> int:
        return len(self._queue)

    def reset(self) -> None:
        """Forget the script, the default handler and the recorded requests (one server, many tests)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
        self._default = None

    # --------------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((self.command, self.path, body, headers))
                reply = fake._next(self.path, body)
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_POST = do_GET = do_DELETE = _serve  # noqa: N815

        self._server = ThreadingHTTPServer((self.host, 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def _next(self, path: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._default is not None:
            r = self._default(path, body)
            return r if isinstance(r, Reply) else Reply(body=r)
        return Reply(status=500, body={"error": {"message": f"fake server: nothing scripted for {path}"}})

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
