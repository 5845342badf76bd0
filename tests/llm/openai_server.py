"""An OpenAI-compatible chat-completions server for tests: real HTTP, scripted answers, faults.

The real `langchain-openai` client (and the `openai` SDK under it, with its own retries and
timeouts) talks to it exactly as to api.openai.com, vLLM or Ollama:

    with OpenAIServer(text("hi"), *status(500, times=3), stall(5)) as server:
        model = make_chat_model("openai-compatible:test", base_url=server.base_url)

Each request takes the next scripted step (an answer or a fault), streamed as server-sent events
when the request asks for `stream`, else as one JSON body. Steps:
- `text(content)`, `answer(obj)` (JSON content, for structured output), `tool_calls(call(...), ...)`
  where a call's `args` is a dict or a raw string (a raw string may be invalid JSON);
- `by_schema(TriageNote=answer(...), ...)` as `server.default`: answers writers by output schema;
- faults: `status(code, times=n)` (an OpenAI-shaped error body; `retry-after-ms` keeps the SDK's
  back-off short), `stall(seconds)` (no answer at all for that long), `truncated(call)` (the
  arguments cut short and `finish_reason: "length"`), `cut(call)` (the stream stops mid-arguments:
  no finish reason, no `[DONE]`).

Like the real API, a request whose history holds an assistant tool call without a tool reply
right after it (or a tool reply answering nothing) is refused with 400 before any step is taken,
so a poisoned thread shows up exactly as it does in production. Every request is recorded
(`requests`: method, path, headers, body) with the step it got; usage counts are reported.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

StepKind = Literal["text", "tool_calls", "status", "stall", "truncated", "cut"]


@dataclass
class Call:
    name: str
    args: dict[str, Any] | str
    id: str

    @property
    def raw(self) -> str:
        return self.args if isinstance(self.args, str) else json.dumps(self.args)


@dataclass
class Step:
    kind: StepKind
    content: str = ""
    calls: list[Call] = field(default_factory=list)
    code: int = 200
    message: str = ""
    seconds: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    step: Step | None = None
    status: int = 200

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def last_user_text(self) -> str:
        users = [m for m in self.messages if m.get("role") == "user"]
        return _text(users[-1].get("content")) if users else ""

    @property
    def structured(self) -> bool:
        """A structured-output call (a specialist's writer), not the chat supervisor's."""
        return "response_format" in self.body

    @property
    def schema_name(self) -> str | None:
        """The output schema a writer asked for (e.g. "TriageNote"), or None."""
        fmt = self.body.get("response_format") or {}
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        return str(spec.get("name")) if isinstance(spec, dict) and spec.get("name") else None


def call(name: str, args: dict[str, Any] | str, call_id: str) -> Call:
    return Call(name, args, call_id)


def text(content: str) -> Step:
    return Step("text", content=content)


def answer(obj: Any) -> Step:
    return Step("text", content=json.dumps(obj))


def tool_calls(*calls: Call, content: str = "") -> Step:
    return Step("tool_calls", content=content, calls=list(calls))


def status(code: int, message: str | None = None, *, times: int = 1) -> list[Step]:
    msg = message or {429: "Rate limit reached", 400: "Bad request"}.get(code, "The server had an error")
    return [Step("status", code=code, message=msg) for _ in range(times)]


def stall(seconds: float) -> Step:
    return Step("stall", seconds=seconds)


def by_schema(**answers: Step | list[Step] | Callable[[Received], Step]) -> Callable[[Received], Step]:
    """A `server.default` that answers each writer's call by its output schema's name, whatever
    order an agent writes in: a Step (every time), a list (one per call, the last one repeated), or
    a function of the request. A schema not named gets a 500 step."""
    calls: dict[str, int] = {}

    def respond(received: Received) -> Step:
        name = received.schema_name or ""
        given = answers.get(name)
        if given is None:
            return status(500, f"test server: no answer for schema {name!r}")[0]
        n = calls[name] = calls.get(name, 0) + 1
        if isinstance(given, Step):
            return given
        if isinstance(given, list):
            return given[min(n, len(given)) - 1]
        return given(received)

    return respond


def _prefix(raw: str, keep: float | int) -> str:
    return raw[:keep] if isinstance(keep, int) else raw[: max(1, int(len(raw) * keep))]


def truncated(c: Call, keep: float | int = 0.5) -> Step:
    """The call's arguments cut short (`keep`: a share, or a number of characters), finish_reason
    "length" (the model ran out of output tokens)."""
    return Step("truncated", calls=[Call(c.name, _prefix(c.raw, keep), c.id)])


def cut(c: Call, keep: float | int = 0.5) -> Step:
    """The stream stops inside the call's arguments (no finish reason, no `[DONE]`)."""
    return Step("cut", calls=[Call(c.name, _prefix(c.raw, keep), c.id)])


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _json_object(raw: Any) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (TypeError, ValueError):
        return False


def history_problem(messages: list[dict[str, Any]], *, strict_arguments: bool = True) -> str | None:
    """What the API says about a history with unanswered tool calls, or None. `strict_arguments`:
    also refuse a stored call whose arguments are not a JSON object (vLLM parses them)."""
    i = 0
    while i < len(messages):
        msg = messages[i]
        if msg.get("role") == "tool":
            return (
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                "message with 'tool_calls'."
            )
        calls = msg.get("tool_calls") or [] if msg.get("role") == "assistant" else []
        i += 1
        if not calls:
            continue
        wanted = [c.get("id") for c in calls]
        for c in calls:
            if strict_arguments and not _json_object((c.get("function") or {}).get("arguments")):
                return f"Invalid tool call {c.get('id')}: function.arguments is not a JSON object"
        answered: set[str] = set()
        while i < len(messages) and messages[i].get("role") == "tool":
            answered.add(str(messages[i].get("tool_call_id")))
            i += 1
        missing = [w for w in wanted if w not in answered]
        if missing:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding "
                "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                + ", ".join(str(m) for m in missing)
            )
    return None


def _usage(body: dict[str, Any], completion: str) -> dict[str, int]:
    prompt = len(json.dumps(body.get("messages") or [])) // 4
    out = max(1, len(completion) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}


class OpenAIServer:
    """A scripted OpenAI-compatible server on 127.0.0.1 (a context manager)."""

    def __init__(
        self, *steps: Step | Iterable[Step], model: str = "test-model", strict_arguments: bool = True
    ) -> None:
        self.strict_arguments = strict_arguments
        self.script: list[Step] = []
        self.add(*steps)
        self.model = model
        self.requests: list[Received] = []
        self.default: Step | Callable[[Received], Step] | None = None
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add(self, *steps: Step | Iterable[Step]) -> None:
        for s in steps:
            self.script.extend([s] if isinstance(s, Step) else list(s))

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server._handle(self, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # --- what tests read ---------------------------------------------------------------------

    @property
    def chat_requests(self) -> list[Received]:
        """Requests from the chat supervisor (tools bound), not from specialists' writers."""
        return [r for r in self.requests if "tools" in r.body]

    @property
    def left(self) -> int:
        return len(self.script)

    # --- serving -------------------------------------------------------------------------------

    def _next(self, received: Received) -> Step | None:
        with self._lock:
            self.requests.append(received)
            if self.script:
                return self.script.pop(0)
        default = self.default
        return default(received) if callable(default) else default

    def _handle(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        received = Received(h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        if not h.path.rstrip("/").endswith("/chat/completions"):
            return self._error(h, received, 404, f"no route {h.path}", "invalid_request_error")
        problem = history_problem(received.messages, strict_arguments=self.strict_arguments)
        if problem is not None:
            with self._lock:
                self.requests.append(received)
            return self._error(h, received, 400, problem, "invalid_request_error")
        step = self._next(received)
        received.step = step
        if step is None:
            return self._error(h, received, 500, "test server: no scripted answer left", "server_error")
        if step.kind == "status":
            kind = "invalid_request_error" if step.code < 500 and step.code != 429 else "server_error"
            return self._error(h, received, step.code, step.message, kind)
        if step.kind == "stall":
            self._release.wait(step.seconds)
            step = Step("text", content="(answer after a stall)")
        try:
            if body.get("stream"):
                self._stream(h, body, step)
            else:
                self._complete(h, body, step)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to answer

    def _error(
        self, h: BaseHTTPRequestHandler, received: Received, code: int, message: str, kind: str
    ) -> None:
        received.status = code
        payload = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}})
        h.send_response(code)
        h.send_header("content-type", "application/json")
        h.send_header("retry-after-ms", "5")  # the SDK honours it: retried tests stay fast
        h.send_header("content-length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload.encode())

    def _finish_reason(self, step: Step) -> str | None:
        if step.kind == "truncated":
            return "length"
        if step.kind == "cut":
            return None
        return "tool_calls" if step.calls else "stop"

    def _complete(self, h: BaseHTTPRequestHandler, body: dict[str, Any], step: Step) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": step.content or None}
        if step.calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw}}
                for c in step.calls
            ]
        payload = json.dumps(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": self._finish_reason(step)}],
                "usage": _usage(body, step.content + "".join(c.raw for c in step.calls)),
            }
        )
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload.encode())

    def _stream(self, h: BaseHTTPRequestHandler, body: dict[str, Any], step: Step) -> None:
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("connection", "close")
        h.end_headers()
        ident = f"chatcmpl-{len(self.requests)}"

        def send(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> None:
            chunk: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.model,
                "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            h.wfile.flush()

        send({"role": "assistant", "content": ""})
        words = step.content.split(" ") if step.content else []
        for i, word in enumerate(words):
            send({"content": word if i == len(words) - 1 else word + " "})
        for index, c in enumerate(step.calls):
            head = {
                "index": index,
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": ""},
            }
            send({"tool_calls": [head]})
            raw = c.raw
            for start in range(0, len(raw), 8):
                send({"tool_calls": [{"index": index, "function": {"arguments": raw[start : start + 8]}}]})
        if step.kind == "cut":
            return  # the connection closes mid-arguments: no finish reason, no [DONE]
        send({}, self._finish_reason(step))
        if (body.get("stream_options") or {}).get("include_usage"):
            send(None, usage=_usage(body, step.content + "".join(c.raw for c in step.calls)))
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()


# --- a plausible answer for any writer, and what the server counted --------------------------------

PLAIN_TEXT = "Work continues as planned and the team keeps the scope in view."


def _fill(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest instance of a JSON schema: plain words (no numbers, links or mentions, so the
    output guard passes them), empty lists, the first enum value, the minimum number."""
    if "$ref" in schema:
        return _fill(defs[str(schema["$ref"]).rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _fill(options[0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: _fill(sub, defs) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        item = schema.get("items") or {"type": "string"}
        return [_fill(item, defs) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10_000))
        words = PLAIN_TEXT
        while len(words) < low:
            words += " " + PLAIN_TEXT
        return words[:high]
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def schema_answer(received: Received) -> Step:
    """An answer that fits the output schema the request asked for (`response_format`)."""
    fmt = received.body.get("response_format") or {}
    spec = (fmt.get("json_schema") or {}).get("schema") if isinstance(fmt, dict) else None
    if not isinstance(spec, dict):
        return text(PLAIN_TEXT)
    return answer(_fill(spec, spec.get("$defs") or {}))


def served_usage(received: Received) -> dict[str, int]:
    """The usage this server reported for one answered request (zeros for errors and faults)."""
    step = received.step
    if received.status != 200 or step is None or step.kind not in ("text", "tool_calls", "stall"):
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    content = "(answer after a stall)" if step.kind == "stall" else step.content
    return _usage(received.body, content + "".join(c.raw for c in step.calls))
