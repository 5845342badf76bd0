"""Render plans compiled once per (record type, field tree): the list path of `Renderer`.

A page of 100 tasks with the planner's `opt_fields` asks for ~30 fields each; resolving every
field through the generic `Renderer._object` loop (resolver call, type dispatch, recursive
`_value`) cost ~20 µs a task, several times the HTTP stack. A plan is one generated function
per (record type, tree) with a statement per output field, chosen when it is compiled:

- plain attributes whose annotations are scalars (str, int, float, bool, None) are read directly;
- references without sub-fields (`dependencies`, `dependents`) are written as `{gid,
  resource_type}` in place; with sub-fields (`assignee.name`, `tags.name`) each distinct gid is
  rendered once per page;
- memberships render once per (project, section), and custom fields look up the projects' field
  list once per set of projects and each (field, value) once per page, from a per-field template
  holding what depends on the field alone;
- every other field goes through its resolver and `Renderer._value`, as before.

Every output is exactly `Renderer._object`'s (same keys, order and values); shared sub-objects
are shared the way `render_many` already shared them (the page is encoded at once, never edited).
tests/sandbox/test_serialize_plan.py compares both paths and pins digests of whole pages taken
before the plans; tests/sandbox/test_serialize_fast.py compares with a naive renderer.
"""

from __future__ import annotations

import keyword
import types
import typing
from collections.abc import Callable
from typing import Any

from sandbox.optfields import FieldTree
from sandbox.records import CustomField, Task

# serialize imports this module only when it renders (never at import time): no cycle.
from sandbox.serialize import (
    _ABSENT,
    _CF_STATIC,
    _SCALARS,
    SPECS,
    Ref,
    Renderer,
    _project_field_gids,
    _task_custom_fields,
    _task_memberships,
)

# (renderer, record, output being built, the page's caches) -> None
Step = Callable[[Renderer, Any, dict[str, Any], list[dict[Any, Any]]], None]
_NO_KEY = object()
_TEMPLATE = object()  # a per-field cache's entry for the field's template


# (renderer, record, the page's caches) -> the record's JSON object
Render = Callable[[Renderer, Any, list[dict[Any, Any]]], dict[str, Any]]


class Plan:
    """How to render one record type with one field tree, and how many page caches it uses."""

    __slots__ = ("caches", "render", "tree")

    def __init__(self, tree: FieldTree | None, render: Render, caches: int) -> None:
        self.tree = tree  # held, so the id it is cached under is not reused
        self.render = render
        self.caches = caches


# Trees come from optfields' parse cache (the same object for the same opt_fields string).
_PLANS: dict[tuple[type, int, bool], Plan] = {}
_PLANS_MAX = 512


def plan_for(record_type: type, kind: str, tree: FieldTree | None, full: bool) -> Plan:
    key = (record_type, id(tree), full)
    plan = _PLANS.get(key)
    if plan is not None and plan.tree is tree:
        return plan
    plan = _compile(record_type, kind, tree, full)
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _scalar_attribute(record_type: type, attr: str) -> bool:
    """Whether the record's annotation says the attribute only holds JSON scalars."""
    try:
        hint = typing.get_type_hints(record_type).get(attr)
    except (NameError, TypeError):
        return False
    if hint in _SCALARS:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return all(arg in _SCALARS for arg in typing.get_args(hint))
    return False


def _compile(record_type: type, kind: str, tree: FieldTree | None, full: bool) -> Plan:
    spec = SPECS[kind]
    explicit = tree is not None
    names = tree.keys() if tree is not None else (spec.full if full else spec.compact)
    # Each output field: ("attribute", name, attr, None), ("compact refs", name, attr, resource
    # type) or ("step", name, step, None); then written out as one function (see _generate).
    parts: list[tuple[str, str, Any, Any]] = []
    caches = 0
    for name in names:
        resolver = spec.fields.get(name)
        if resolver is None:
            continue  # not a field of this resource: Asana leaves it out
        sub = (tree.get(name) or None) if tree is not None else None
        attr: str | None = getattr(resolver, "attr_name", None)
        ref_of = getattr(resolver, "ref_of", None)
        refs_of = getattr(resolver, "refs_of", None)
        if attr is not None and _scalar_attribute(record_type, attr):
            parts.append(("attribute", name, attr, None))
        elif refs_of is not None and explicit and not sub:
            parts.append(("compact refs", name, refs_of[0], refs_of[1]))
        elif ref_of is not None:
            parts.append(("step", name, _reference(name, ref_of[0], ref_of[1], sub, explicit, caches), None))
            caches += 1
        elif refs_of is not None:
            parts.append(
                ("step", name, _references(name, refs_of[0], refs_of[1], sub, explicit, caches), None)
            )
            caches += 1
        elif resolver is _task_memberships and record_type is Task:
            parts.append(("step", name, _memberships(name, sub, caches), None))
            caches += 1
        elif resolver is _task_custom_fields and record_type is Task:
            parts.append(("step", name, _custom_fields(name, sub, caches), None))
            caches += 2
        else:
            parts.append(("step", name, _generic(name, attr, resolver, sub, explicit), None))
    return Plan(tree, _generate(parts), caches)


def _generate(parts: list[tuple[str, str, Any, Any]]) -> Render:
    """One function with a statement per field (no per-field dispatch at render time).

    Output names are written as literals (repr) and only names the resource's spec defines get
    here; attributes and resource types come from the spec's resolvers, never from a request."""
    namespace: dict[str, Any] = {}
    lines = ["def render(r, obj, caches):", "    out = {} if obj.gid is None else {'gid': obj.gid}"]
    if any(part[0] == "compact refs" for part in parts):
        lines.append("    index = r.store.index")
    for i, part in enumerate(parts):
        kind, name = part[0], part[1]
        if kind == "attribute" and str(part[2]).isidentifier() and not keyword.iskeyword(part[2]):
            lines.append(f"    out[{name!r}] = obj.{part[2]}")
        elif kind == "attribute":
            namespace[f"a{i}"] = part[2]
            lines.append(f"    out[{name!r}] = getattr(obj, a{i})")
        elif kind == "compact refs":
            # `{gid, resource_type}` each, as `Renderer._ref` gives with no sub-fields asked.
            namespace[f"a{i}"], namespace[f"t{i}"] = part[2], part[3]
            lines.append(
                f"    out[{name!r}] = [{{'gid': g, 'resource_type': t{i} if (x := index.get(g)) is None"
                f" else x.resource_type}} for g in getattr(obj, a{i})]"
            )
        else:
            namespace[f"s{i}"] = part[2]
            lines.append(f"    s{i}(r, obj, out, caches)")
    lines.append("    return out")
    exec("\n".join(lines), namespace)  # noqa: S102 - source built above from the spec alone
    render: Render = namespace["render"]
    return render


def _reference(name: str, attr: str, rtype: str, sub: FieldTree | None, explicit: bool, slot: int) -> Step:
    def step(r: Renderer, obj: Any, out: dict[str, Any], caches: list[dict[Any, Any]]) -> None:
        gid = getattr(obj, attr)
        if not gid:
            out[name] = None
            return
        cache = caches[slot]
        hit = cache.get(gid)
        if hit is None:
            hit = cache[gid] = r._ref(Ref(gid, rtype), sub, explicit)
        out[name] = hit

    return step


def _references(name: str, attr: str, rtype: str, sub: FieldTree | None, explicit: bool, slot: int) -> Step:
    def step(r: Renderer, obj: Any, out: dict[str, Any], caches: list[dict[Any, Any]]) -> None:
        cache = caches[slot]
        items = []
        for gid in getattr(obj, attr):
            hit = cache.get(gid)
            if hit is None:
                hit = cache[gid] = r._ref(Ref(gid, rtype), sub, explicit)
            items.append(hit)
        out[name] = items

    return step


def _memberships(name: str, sub: FieldTree | None, slot: int) -> Step:
    # A membership renders from its project and section gids alone.
    def step(r: Renderer, task: Task, out: dict[str, Any], caches: list[dict[Any, Any]]) -> None:
        cache = caches[slot]
        items = []
        for m in task.memberships:
            key = (m["project"], m.get("section"))
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = r._object("membership", None, m, sub, False)
            items.append(hit)
        out[name] = items

    return step


def _custom_fields(name: str, sub: FieldTree | None, slot: int) -> Step:
    """A task's custom-field values: its projects' fields in order, then any stray values."""

    def step(r: Renderer, task: Task, out: dict[str, Any], caches: list[dict[Any, Any]]) -> None:
        layouts, values_cache = caches[slot], caches[slot + 1]
        ms = task.memberships
        key: Any = ms[0]["project"] if len(ms) == 1 else tuple(m["project"] for m in ms)
        layout = layouts.get(key)
        if layout is None:
            layout = layouts[key] = _layout(r, ms, values_cache)
        fields, known = layout
        values = task.custom_fields
        items = []
        for gid, cf, texts in fields:
            raw = values.get(gid)
            if raw is None or type(raw) is str:  # the common case inline: text, enum option gids
                hit = texts.get(raw)
                if hit is None:
                    hit = texts[raw] = _value_object(r, cf, raw, sub, values_cache)
                items.append(hit)
            else:
                items.append(_value_object(r, cf, raw, sub, values_cache))
        if not values.keys() <= known:  # values of fields outside the task's projects
            store_fields = r.store.custom_fields
            for gid, raw in values.items():
                cf = store_fields.get(gid)
                if gid not in known and cf is not None:
                    items.append(_value_object(r, cf, raw, sub, values_cache))
        out[name] = items

    return step


# (gid, field, its rendered values by text or None), in output order, and the set of gids.
Layout = tuple[list[tuple[str, CustomField, dict[Any, Any]]], frozenset[str]]


def _layout(r: Renderer, memberships: list[dict[str, str]], values_cache: dict[Any, Any]) -> Layout:
    order: list[str] = []
    for m in memberships:
        project = r.store.projects.get(m["project"])
        if project is None:
            continue
        for gid in _project_field_gids(r, project):
            if gid not in order:
                order.append(gid)
    store_fields = r.store.custom_fields
    fields = []
    for gid in order:
        cf = store_fields.get(gid)
        if cf is not None:
            fields.append((gid, cf, values_cache.setdefault(("texts", gid), {})))
    return fields, frozenset(order)


def _value_object(
    r: Renderer, cf: CustomField, raw: Any, sub: FieldTree | None, cache: dict[Any, Any]
) -> dict[str, Any]:
    """`Renderer._cf_value_object`, shared per (field, value) for the page where it depends on
    nothing else: scalars (by type, so 1, 1.0 and True stay apart; -0.0 and 0.0 print
    differently, so floats equal to zero are not shared) and lists of option or user gids.

    The field's cache: {_TEMPLATE: its template, value type: {value: rendered}} (lists keyed by
    tuple under `list`, which the inline lookup in `_custom_fields` never reads)."""
    per = cache.get(cf.gid)
    if per is None:
        per = cache[cf.gid] = {_TEMPLATE: _cf_template(r, cf, sub)}
    kind = type(raw)
    key: Any = _NO_KEY
    if kind in _SCALARS and not (kind is float and raw == 0.0):
        key = raw
    elif kind is list and all(type(v) is str for v in raw):
        key = tuple(raw)
    if key is not _NO_KEY:
        same_type = per.get(kind)
        if same_type is None:
            same_type = per[kind] = {}
        hit: dict[str, Any] | None = same_type.get(key)
        if hit is not None:
            return hit
    template, dynamic, explicit = per[_TEMPLATE]
    rendered: dict[str, Any] = template.copy()  # keeps the field order; values set in place
    entry = (cf, raw)
    for name, resolver, child in dynamic:
        value = resolver(r, entry)
        if value is _ABSENT:
            del rendered[name]
        else:
            rendered[name] = value if type(value) in _SCALARS else r._value(value, child, explicit)
    if key is not _NO_KEY:
        per[kind][key] = rendered
    return rendered


def _cf_template(
    r: Renderer, cf: CustomField, sub: FieldTree | None
) -> tuple[dict[str, Any], list[tuple[str, Callable[[Renderer, Any], Any], FieldTree | None]], bool]:
    """A custom field's value object with the fields that depend on the field alone filled in
    (`_CF_STATIC`), and the value-dependent fields to fill per value, in output order. A
    `number_value`-like field of another kind than the field's is absent whatever the value."""
    spec = SPECS["custom_field_value"]
    explicit = sub is not None
    names = sub.keys() if sub is not None else spec.compact
    template: dict[str, Any] = {"gid": cf.gid}
    dynamic: list[tuple[str, Callable[[Renderer, Any], Any], FieldTree | None]] = []
    for name in names:
        resolver = spec.fields.get(name)
        if resolver is None:
            continue
        child = (sub.get(name) or None) if sub is not None else None
        if name in _CF_STATIC:
            value = resolver(r, (cf, None))
            if value is not _ABSENT:
                template[name] = r._value(value, child, explicit)
            continue
        if getattr(resolver, "cf_kind", cf.resource_subtype) != cf.resource_subtype:
            continue
        template[name] = None  # its place in the order
        dynamic.append((name, resolver, child))
    return template, dynamic, explicit


def _generic(
    name: str,
    attr: str | None,
    resolver: Callable[[Renderer, Any], Any],
    sub: FieldTree | None,
    explicit: bool,
) -> Step:
    def step(r: Renderer, obj: Any, out: dict[str, Any], _c: list[dict[Any, Any]]) -> None:
        value = getattr(obj, attr) if attr is not None else resolver(r, obj)
        if value is _ABSENT:
            return
        out[name] = value if type(value) in _SCALARS else r._value(value, sub, explicit)

    return step
