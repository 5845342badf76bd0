"""Asana's OpenAPI spec as the conformance tests need it (issue 18).

`operation(method, template)` gives one operation of asana_oas.yaml: path/query parameters
(required, enum), the request body's `data` schema (required fields, enums), the success status and
response schema (as JSON Schema, OpenAPI 3.0 `nullable` translated), and the opt-in fields.
`client_endpoints()` parses the labels ("GET /tasks/{gid}") of every `_one(`/`_pages(`/`_payload(`
call in tools/asana/*.py, so a new client call is covered without editing the tests.

Opt-in rule. The spec marks opt-in properties in their description: "[Opt In]" (e.g.
TaskResponse.num_subtasks, html_notes) or "only returned when requesting it via opt_fields"
(TaskResponse.assigned_by). Lists answer with compact records ("Returns the compact ... records",
items `$ref: *Compact`), so for a list every property outside the item schema is opt-in as well:
without `opt_fields` a list row may only carry the item schema's properties that are not marked.

`python -m tests.sandbox.spec_model --summary` runs the conformance test and prints, per endpoint
the product calls, the checks generated and how many pass (xfail counted apart).
"""

from __future__ import annotations

import copy
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Json = dict[str, Any]

REPO = Path(__file__).resolve().parents[2]
_SPEC_IN_SHARED = Path("shared/reference/asana/asana_oas.yaml")


def _spec_path() -> Path:
    """ASANA_OAS, else the project's shared folder beside the checkout, else the workplace's
    (a clean clone elsewhere, as CI makes, still finds it there)."""
    if os.environ.get("ASANA_OAS"):
        return Path(os.environ["ASANA_OAS"])
    candidates = (REPO.parent / _SPEC_IN_SHARED, Path("/work") / _SPEC_IN_SHARED)
    return next((c for c in candidates if c.is_file()), candidates[0])


SPEC_PATH = _spec_path()
CLIENT_FILES = ("core.py", "reads.py", "writes.py", "webhooks.py")
# A label is the first string argument of _one/_pages/_payload, possibly on the next line.
LABEL_RE = re.compile(r"_(?:one|pages|payload)\(\s*\"(GET|POST|PUT|DELETE|PATCH) (/[^\"]*)\"")
OPT_IN_RE = re.compile(r"\[Opt In\]|via opt_fields", re.IGNORECASE)
PLACEHOLDER_RE = re.compile(r"\{[^}]*\}")
# Where the spec forgets `nullable` and real Asana answers null, real Asana wins: a new webhook has
# not succeeded, failed or been scheduled yet, and Asana returns these timestamps as null.
REAL_ASANA_NULLABLE: dict[str, frozenset[str]] = {
    "WebhookResponse": frozenset(
        {"last_success_at", "last_failure_at", "next_attempt_after", "failure_deletion_timestamp"}
    ),
}


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "path" | "query"
    required: bool
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # the spec's path, e.g. /tasks/{task_gid}
    operation_id: str
    params: tuple[Param, ...]
    body_media: str | None  # "application/json" | "multipart/form-data" | None
    body_required: tuple[str, ...]  # required fields of `data` (or of the multipart form)
    body_enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "field" or "field[].sub"
    success_status: int = 200
    response_schema: Json | None = None  # JSON Schema of the whole success body
    is_list: bool = False
    item_properties: frozenset[str] = frozenset()  # properties of `data` (items for lists)
    opt_in: frozenset[str] = frozenset()  # marked opt-in properties of `data` (items for lists)

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def query(self, required: bool | None = None) -> list[Param]:
        return [p for p in self.params if p.location == "query" and required in (None, p.required)]


class SpecMissing(RuntimeError):
    pass


@functools.cache
def load_spec() -> Json:
    """The parsed spec (3 MB of YAML: parsed once per process, with libyaml when present)."""
    if not SPEC_PATH.is_file():
        raise SpecMissing(f"Asana's OpenAPI spec is not at {SPEC_PATH} (set ASANA_OAS)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as handle:
        spec: Json = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return spec


def deref(node: Any) -> Any:
    """`node` with its own `$ref` chain resolved (one level; nested refs stay)."""
    spec = load_spec()
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def properties(schema: Any) -> dict[str, Any]:
    """Properties of a schema, allOf parts merged (Asana builds Response schemas from Base ones)."""
    schema = deref(schema)
    if not isinstance(schema, dict):
        return {}
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        found.update(properties(part))
    found.update(schema.get("properties", {}))
    return found


def required_fields(schema: Any) -> list[str]:
    schema = deref(schema)
    if not isinstance(schema, dict):
        return []
    names = [n for part in schema.get("allOf", []) for n in required_fields(part)]
    return names + [n for n in schema.get("required", []) if n not in names]


def enum_of(schema: Any) -> tuple[str, ...]:
    schema = deref(schema)
    if not isinstance(schema, dict):
        return ()
    values = schema.get("enum") or next((enum_of(p) for p in schema.get("allOf", []) if enum_of(p)), ())
    return tuple(str(v) for v in values if v is not None)


def is_opt_in(schema: Any) -> bool:
    schema = deref(schema)
    if not isinstance(schema, dict):
        return False
    texts = [str(schema.get("description", ""))]
    texts += [str(deref(p).get("description", "")) for p in schema.get("allOf", []) if isinstance(p, dict)]
    return any(OPT_IN_RE.search(t) for t in texts)


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: `nullable: true` becomes "or null"; `$ref`s stay (they
    resolve against the `components` that `response_validator_schema` puts beside them)."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable" and k != "example"}
    # Asana writes a nullable reference as allOf [$ref, {nullable: true}] (TaskResponse.assignee);
    # real Asana answers null there, so the nullable part makes the whole allOf nullable.
    nullable = node.get("nullable") or any(
        isinstance(part, dict) and part.get("nullable") for part in node.get("allOf", [])
    )
    if "enum" in out and nullable:
        out["enum"] = [*out["enum"], None]
    return {"anyOf": [out, {"type": "null"}]} if nullable else out


def _allow_null(schema: Json, names: frozenset[str]) -> None:
    """Make the named properties nullable wherever `schema` (or one of its allOf parts) defines them."""
    for part in [schema, *schema.get("allOf", [])]:
        for name, prop in part.get("properties", {}).items():
            if name in names:
                part["properties"][name] = {"anyOf": [prop, {"type": "null"}]}


@functools.cache
def _components_json_schema() -> Json:
    schemas: Json = to_json_schema(load_spec()["components"]["schemas"])
    for name, props in REAL_ASANA_NULLABLE.items():
        _allow_null(schemas[name], props)
    return {"schemas": schemas}


def _params(path_item: Json, op: Json) -> tuple[Param, ...]:
    merged: dict[tuple[str, str], Param] = {}
    for raw in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        p = deref(raw)
        if p.get("in") not in ("path", "query"):
            continue
        merged[(p["name"], p["in"])] = Param(
            p["name"], p["in"], bool(p.get("required")), enum_of(p.get("schema", {}))
        )
    return tuple(merged.values())


def _body(op: Json) -> tuple[str | None, Any]:
    """(media type, schema of the fields) for the request body; JSON bodies are `{"data": ...}`."""
    content = deref(op.get("requestBody", {})).get("content", {})
    for media in ("application/json", "multipart/form-data"):
        if media in content:
            schema = content[media].get("schema", {})
            if media == "application/json":
                schema = properties(schema).get("data", {})
            return media, schema
    return None, None


def _body_enums(schema: Any) -> dict[str, tuple[str, ...]]:
    """Enums of the body's fields, and of the fields of objects inside arrays (webhook filters)."""
    enums: dict[str, tuple[str, ...]] = {}
    for name, prop in properties(schema).items():
        if values := enum_of(prop):
            enums[name] = values
        items = deref(prop).get("items") if isinstance(deref(prop), dict) else None
        for sub, sub_prop in properties(items).items() if items else ():
            if values := enum_of(sub_prop):
                enums[f"{name}[].{sub}"] = values
    return enums


@functools.cache
def operation(method: str, template: str) -> Operation:
    path_item = load_spec()["paths"][template]
    op = path_item[method.lower()]
    status, response = next((int(c), r) for c, r in op["responses"].items() if str(c).startswith("2"))
    response_schema = deref(response).get("content", {}).get("application/json", {}).get("schema")
    data = deref(properties(response_schema).get("data", {})) if response_schema else {}
    is_list = isinstance(data, dict) and data.get("type") == "array"
    record = data.get("items", {}) if is_list else data
    props = properties(record)
    media, body = _body(op)
    return Operation(
        method=method.upper(),
        template=template,
        operation_id=str(op.get("operationId", "")),
        params=_params(path_item, op),
        body_media=media,
        body_required=tuple(required_fields(body)) if body is not None else (),
        body_enums=_body_enums(body) if body is not None else {},
        success_status=status,
        response_schema=(
            {**to_json_schema(copy.deepcopy(response_schema)), "components": _components_json_schema()}
            if response_schema
            else None
        ),
        is_list=is_list,
        item_properties=frozenset(props),
        opt_in=frozenset(name for name, prop in props.items() if is_opt_in(prop)),
    )


def spec_template(method: str, label_path: str) -> str | None:
    """The spec path a client label names: placeholders match whatever the spec calls them."""
    shape = PLACEHOLDER_RE.sub("{}", label_path)
    for template, item in load_spec()["paths"].items():
        if PLACEHOLDER_RE.sub("{}", template) == shape and method.lower() in item:
            return str(template)
    return None


def client_endpoints() -> list[tuple[str, str]]:
    """(method, label path) of every call the Asana client makes, in file order, de-duplicated."""
    found: dict[tuple[str, str], None] = {}
    for name in CLIENT_FILES:
        text = (REPO / "tools/asana" / name).read_text(encoding="utf-8")
        for match in LABEL_RE.finditer(text):
            found[(match.group(1), match.group(2))] = None
    return list(found)


def _summary() -> int:
    """Run the conformance test, then print one row per endpoint: checks, passed, xfail, failed."""
    import pytest  # here: the module itself must stay importable without running anything

    outcomes: dict[str, dict[str, int]] = {}

    class Collect:
        def pytest_runtest_logreport(self, report: Any) -> None:
            if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
                return
            ids = report.nodeid.partition("[")[2]
            endpoint = ids.rstrip("]").split("|")[0] if ids else "(spec model, recipe coverage)"
            row = outcomes.setdefault(endpoint, {"checks": 0, "passed": 0, "xfail": 0, "failed": 0})
            row["checks"] += 1
            # A strict xfail that fails as expected is reported "skipped" with `wasxfail`.
            xfailed = report.outcome == "skipped" and hasattr(report, "wasxfail")
            row["xfail" if xfailed else "passed" if report.outcome == "passed" else "failed"] += 1

    test = str(REPO / "tests/sandbox/test_spec_conformance.py")
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "-o", "addopts=--import-mode=importlib", test], plugins=[Collect()]
    )
    print(f"\n{'endpoint':58} {'checks':>6} {'pass':>5} {'xfail':>5} {'fail':>5}")
    for endpoint, row in sorted(outcomes.items()):
        print(f"{endpoint:58} {row['checks']:6} {row['passed']:5} {row['xfail']:5} {row['failed']:5}")
    totals = {k: sum(r[k] for r in outcomes.values()) for k in ("checks", "passed", "xfail", "failed")}
    print(
        f"{'TOTAL: ' + str(len(client_endpoints())) + ' endpoints the client calls':58} "
        f"{totals['checks']:6} {totals['passed']:5} {totals['xfail']:5} {totals['failed']:5}"
    )
    return int(code)


if __name__ == "__main__":
    if "--summary" in sys.argv[1:]:
        raise SystemExit(_summary())
    print(__doc__)
