"""Per-request context: auth, parsed body and opt_fields, access checks, responses, pagination."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import Request
from starlette.responses import Response

from sandbox.access import can_see, sees_task
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.fragments import render_tasks_json
from sandbox.optfields import FieldTree, options_fields, parse_opt_fields
from sandbox.records import Record, Task, User
from sandbox.serialize import Renderer
from sandbox.store import Store

API_PREFIX = "/api/1.0"
JSON_TYPE = "application/json; charset=utf-8"
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_PLURALS = {"story": "stories"}
_FORM_TYPE = "application/x-www-form-urlencoded"
_FORM_BOOLS = {"true": True, "false": False}
_FREE_TEXT = {"name", "notes", "html_notes", "text", "html_text", "title", "description"}


# Anything orjson would render differently from json.dumps goes to a default hook (none: raises).
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)


# orjson writes `6.5e-8` where json writes `6.5e-08` (text like "re-estimate" only costs a check).
_SMALL_EXPONENT = re.compile(rb"[0-9]e-")


def encode_json(payload: Any) -> bytes:
    """`json.dumps(payload, separators=(",", ":"))` as bytes, byte for byte, ~10x faster.

    orjson gives the same bytes except for non-ASCII text (json escapes it), DEL (json escapes
    it), floats below 1e-4 (json writes `1e-05`, `6.5e-08`) and non-finite floats (which the API
    refuses on input); the first three are detected in its output and sent through json instead.
    """
    try:
        out = orjson.dumps(payload, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: non-str keys, ints over 64 bits, other types
        return json.dumps(payload, separators=(",", ":")).encode()
    if _json_would_match(out):
        return out
    return json.dumps(payload, separators=(",", ":")).encode()


def _json_would_match(out: bytes) -> bool:
    if not out.isascii() or b"\x7f" in out or b"0.0000" in out:
        return False
    return b"e-" not in out or _SMALL_EXPONENT.search(out) is None


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode_json(payload), status_code=status, headers=headers, media_type=JSON_TYPE)


def unknown_object() -> ApiError:
    # One answer for "no such object" and "not yours to see": Asana does not tell them apart.
    return ApiError(
        404,
        "Unknown object: The object you are looking for does not exist or you do not have access to it.",
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass
class Ctx:
    request: Request
    store: Store
    user: User
    token: str
    body: dict[str, Any] | None
    tree: FieldTree | None
    renderer: Renderer

    @property
    def lock(self) -> Any:
        return self.store.lock

    @property
    def services(self) -> Any:
        return self.request.app.state.sandbox

    # ---- input ---------------------------------------------------------------------------
    def data(self, required: bool = True) -> dict[str, Any]:
        body = self.body or {}
        data = body.get("data")
        if data is None:
            if required:
                raise bad_request("data: Missing input")
            return {}
        if not isinstance(data, dict):
            raise bad_request("data: Value is not an object")
        return data

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value if value not in (None, "") else None

    def resolve_user(self, value: Any, field: str) -> str | None:
        """`"me"`, a user gid, an email or null -> user gid (400 when unknown)."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad_request(f"{field}: Not a valid user reference")
        if value == "me":
            return self.user.gid
        if value in self.store.users:
            return value
        for user in self.store.users.values():
            if user.email and user.email == value:
                return user.gid
        raise bad_request(f"{field}: Not a recognized ID: {value}")

    # ---- access --------------------------------------------------------------------------
    def need(self, gid: str, *resource_types: str, field: str | None = None) -> Any:
        """The record, 404 if unknown (400 when it came from a body field), 403 if not visible."""
        if gid == "me" and "user" in resource_types:
            return self.user
        record = self.store.index.get(gid)
        if record is None or (resource_types and record.resource_type not in resource_types):
            if field is not None:
                raise bad_request(f"{field}: Not a recognized ID: {gid}")
            raise unknown_object()
        self.check_access(record)
        return record

    def check_access(self, record: Record) -> None:
        workspace = self.store.workspace_of(record)
        if workspace is not None and workspace not in self.user.workspaces:
            raise forbidden()
        if not self.sees(record):
            raise unknown_object()

    def sees(self, record: Record) -> bool:
        """Project privacy as this token's user meets it (sandbox/access.py)."""
        return can_see(self.store, self.user.gid, record)

    def visible_tasks(self, gids: Iterable[str]) -> Iterator[Task]:
        """The known tasks among `gids` this user may see, lazily (each project checked once)."""
        tasks = self.store.tasks
        store, user_gid = self.store, self.user.gid
        projects_seen: dict[str, bool] = {}
        for gid in gids:
            task = tasks.get(gid)
            if task is None:
                continue
            memberships = task.memberships
            # Fast path: the first project holding it is one this user sees (already checked).
            if (memberships and projects_seen.get(memberships[0]["project"])) or sees_task(
                store, user_gid, task, projects_seen
            ):
                yield task

    def need_workspace(self, gid: str | None, field: str = "workspace") -> str:
        if gid is None:
            raise bad_request(f"{field}: Missing input")
        self.need(gid, "workspace", field=field)
        return gid

    # ---- output --------------------------------------------------------------------------
    def render(self, record: Record, full: bool = True) -> dict[str, Any]:
        return self.renderer.render(record, self.tree, full=full)

    def one(self, record: Record, status: int = 200) -> Response:
        headers = None
        if status == 201:
            # The resource's own path: /tasks/{gid}, /stories/{gid}, /status_updates/{gid}, ...
            plural = _PLURALS.get(record.resource_type, f"{record.resource_type}s")
            headers = {"Location": f"{self.renderer.root_url}{API_PREFIX}/{plural}/{record.gid}"}
        return json_response({"data": self.render(record)}, status, headers)

    def empty(self) -> Response:
        return json_response({"data": {}})

    def page(self, records: Sequence[Record] | Iterable[Record]) -> Response:
        """A list response with Asana pagination (`limit` 1..100, opaque `offset`).

        `records` may be lazy: then only the page and one record past it are drawn."""
        params = self.request.query_params
        raw_limit = params.get("limit")
        start = 0
        if params.get("offset"):
            start = self._decode_offset(params["offset"])
        if raw_limit is None or raw_limit == "":
            chunk = records[start:] if isinstance(records, Sequence) else list(records)[start:]
            return self._page_response(chunk, None, False)
        try:
            limit = int(raw_limit)
        except ValueError:
            raise bad_request("limit: Not a valid integer") from None
        if not 1 <= limit <= 100:
            raise bad_request("limit: Must be between 1 and 100")
        end = start + limit
        # One record past the page says whether another page follows.
        drawn = records[: end + 1] if isinstance(records, Sequence) else list(islice(records, end + 1))
        next_page = None
        if end < len(drawn):
            token = self._encode_offset(end)
            query = tuple((k, v) for k, v in params.multi_items() if k not in ("offset", "body"))
            path = self.request.url.path.removeprefix(API_PREFIX) + "?" + _with_offset(query, token)
            next_page = {"offset": token, "path": path, "uri": f"{self.renderer.root_url}{API_PREFIX}{path}"}
        return self._page_response(drawn[start:end], next_page, True)

    def _page_response(
        self, records: Sequence[Record], next_page: dict[str, str] | None, paged: bool
    ) -> Response:
        """`{"data": [...], "next_page": ...}`, byte for byte `json_response`'s. Task lists with
        `opt_fields` join each task's encoded JSON, reused across requests (sandbox/fragments.py)."""
        array = None
        if self.tree is not None:
            with self.store.lock:
                array = render_tasks_json(self.renderer, records, self.tree)
        if array is None:
            data = self.renderer.render_many(records, self.tree)
            payload: dict[str, Any] = {"data": data, "next_page": next_page} if paged else {"data": data}
            return json_response(payload)
        # json.dumps writes an object as its members' own encodings joined by "," (no spaces here).
        body = b'{"data":' + array
        body += b',"next_page":' + encode_json(next_page) + b"}" if paged else b"}"
        return Response(body, media_type=JSON_TYPE)

    def _fingerprint(self) -> str:
        return hashlib.sha256(self.request.url.path.encode()).hexdigest()[:8]

    def _encode_offset(self, position: int) -> str:
        # The issue time rides in the token so it can expire like Asana's (see `_decode_offset`).
        raw = f"{position}:{time.time_ns() // 1_000_000}:{self._fingerprint()}".encode()
        return "ey" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_offset(self, token: str) -> int:
        """The position in a token from `_encode_offset`; 400 when it is foreign, for another path,
        older than `offset_ttl_s` or issued before the admin expiry (`offsets_valid_after_ms`)."""
        try:
            raw = base64.urlsafe_b64decode(token[2:] + "=" * (-len(token[2:]) % 4)).decode()
            position, issued_ms, fingerprint = raw.split(":")
            if not hmac.compare_digest(fingerprint, self._fingerprint()) or not token.startswith("ey"):
                raise ValueError
            if not self._offset_is_fresh(int(issued_ms)):
                raise ValueError
            return int(position)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("offset: Your pagination token is invalid or has expired.") from None

    def _offset_is_fresh(self, issued_ms: int) -> bool:
        services = self.services
        age_s = (time.time_ns() // 1_000_000 - issued_ms) / 1000
        valid_after_ms: int = services.offsets_valid_after_ms
        ttl_s: float = services.offset_ttl_s
        return issued_ms >= valid_after_ms and age_s <= ttl_s


# A client pages with the same query over and over; quoting a long opt_fields costs ~0.1 ms.
_QUERIES: dict[tuple[tuple[str, str], ...], str] = {}
_QUERIES_MAX = 256


def _with_offset(query: tuple[tuple[str, str], ...], token: str) -> str:
    """`urlencode([*query, ("offset", token)])`, the query's own part quoted once."""
    encoded = _QUERIES.get(query)
    if encoded is None:
        encoded = urlencode(query)
        if len(encoded) <= 8192:  # only what fits in a URL is worth keeping
            if len(_QUERIES) >= _QUERIES_MAX:
                _QUERIES.clear()
            _QUERIES[query] = encoded
    offset = urlencode([("offset", token)])
    return f"{encoded}&{offset}" if encoded else offset


def _form_body(raw: bytes) -> dict[str, Any] | None:
    """A form-encoded body as the JSON body it stands for (developers.asana.com "Input/output
    options": form bodies carry the fields at the top level, not under `data`, and options as
    `opt_*` keys). `key[0]=..` builds a list and `key[name]=..` an object (one level, e.g.
    `followers[0]`, `custom_fields[gid]`); "true"/"false" become booleans outside free text."""
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw.strip()))
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Could not parse request data, invalid form encoding") from None
    data: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in pairs:
        if key.startswith("opt_"):
            options[key.removeprefix("opt_")] = value.split(",") if key == "opt_fields" else value
            continue
        name, _, sub = key.partition("[")
        typed: Any = value if name in _FREE_TEXT else _FORM_BOOLS.get(value, value)
        if not sub:
            data[name] = typed
        else:
            container = data.setdefault(name, {})
            if isinstance(container, dict):
                container[sub.removesuffix("]")] = typed
    for name, container in data.items():
        if isinstance(container, dict) and container and all(k.isdigit() for k in container):
            data[name] = [container[k] for k in sorted(container, key=int)]
    if not data and not options:
        return None
    return {"data": data, **({"options": options} if options else {})}


async def build_ctx(request: Request) -> Ctx:
    """FastAPI dependency: authenticate, parse the JSON body and `opt_fields`."""
    services = request.app.state.sandbox
    store: Store = services.store
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "Not Authorized")
    user = store.user_for_token(token)
    if user is None:
        raise ApiError(401, "Not Authorized")
    body: dict[str, Any] | None = None
    content_type = request.headers.get("content-type", "")
    if request.method in _WRITE_METHODS and content_type.startswith(_FORM_TYPE):
        body = _form_body(await request.body())
    elif request.method in _WRITE_METHODS and not content_type.startswith("multipart/"):
        raw = await request.body()
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise bad_request("Could not parse request data, invalid JSON") from None
            if not isinstance(parsed, dict):
                raise bad_request("Request data must be a JSON object")
            body = parsed
    raw_fields: str | list[str] | None = request.query_params.get("opt_fields")
    if raw_fields is None:
        raw_fields = options_fields(body)
    tree = parse_opt_fields(raw_fields)
    renderer = Renderer(store, str(request.base_url), services.sign_download)
    return Ctx(request=request, store=store, user=user, token=token, body=body, tree=tree, renderer=renderer)
