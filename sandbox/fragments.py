"""Encoded task JSON kept between requests, checked against what it was built from.

A page of 100 tasks with the planner's `opt_fields` is ~160 KB of JSON; rendering and encoding
it cost ~1.1-1.3 ms against ~0.08 ms for the compact page, most of the gap between the two
reads. Tasks rarely change between two reads, so each task's encoded JSON (a fragment) is kept
per (field tree, root URL), and so is each page (the same tasks in the same order), and reused
while nothing they were built from has changed.

"Changed" is decided by content, not by a write counter: tests, evals (evals/replay/world.py)
and generators edit records in place (`task.custom_fields[gid] = v`, `task.tags.append(g)`)
without going through the API, and such an edit must show in the next read all the same. While
tasks are rendered (a page's missing ones together, sharing lookups as `render_many` does) every
read is recorded: each task's own attributes, and each other record looked up in the store
(table, gid, attributes read: `assignee` -> the user's `name`, a custom field's definition, an
enum option's `name`, a section's `name`, ...) for the batch as a whole. Each fragment keeps an
orjson fingerprint of its task's values and shares its batch's fingerprints of the other records
(a superset of what that one task needs: a change to any of them renders the batch's tasks
again); a later read recomputes them, each record once per request. A record asked for only by
gid (a bare reference writes `{gid, resource_type}`) depends on which record the gid is: that is
checked again when the store's `index_version` moved (records added or removed). orjson tells 1,
1.0 and true apart and -0.0 from 0.0, like the JSON it guards; it writes NaN and infinities as
null (the API refuses them on input: only a direct Python edit from None to NaN would go
unseen). A render that reads anything else (a store method, a table scanned whole, a signed
download URL) is not kept: those tasks render every time, as before.

tests/sandbox/test_fragments.py compares kept pages with fresh renders after each kind of edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter, is_
from typing import Any
from weakref import WeakKeyDictionary

import orjson

from sandbox.optfields import FieldTree
from sandbox.records import Record, Story, Task
from sandbox.serialize import Renderer
from sandbox.store import Store

# Store attributes that are record tables (looked up by gid while rendering).
_TABLES = frozenset(
    {
        "index",
        "workspaces",
        "users",
        "teams",
        "projects",
        "sections",
        "custom_fields",
        "enum_options",
        "field_settings",
        "tasks",
        "stories",
        "tags",
        "portfolios",
        "status_updates",
        "attachments",
        "webhooks",
    }
)
_ABSENT = b"-"  # fingerprint of a gid not in its table
_UNREADABLE = b"!"  # a value orjson cannot write: never equal to a later fingerprint
# Encoded bytes kept per store, all views together; past this the store's cache starts over.
MAX_BYTES = 64 * 1024 * 1024
# Attributes that only tell which record a gid is (its type never changes while it is held).
_IDENTITY = frozenset({"gid", "resource_type"})


class Deps:
    """The other records one batch of renders read, shared by the batch's fragments.

    `attrs`: {dependency key: fingerprint} of records whose attributes were read, checked on
    every read; `identity`: records only asked for by gid (present or not, of which type),
    checked again only when the store's `index_version` moved since `identity_at`."""

    __slots__ = ("attrs", "identity", "identity_at")

    def __init__(self, attrs: dict[str, bytes], identity: dict[str, bytes], identity_at: int) -> None:
        self.attrs = attrs
        self.identity = identity
        self.identity_at = identity_at

    def identity_holds(self, store: Store) -> bool:
        if self.identity_at == store.index_version:
            return True
        for key, fingerprint in self.identity.items():
            if _dep_fingerprint(store, key) != fingerprint:
                return False
        self.identity_at = store.index_version
        return True


class Fragment:
    """One task's encoded JSON, the fingerprint of its attributes read, and its batch's deps."""

    __slots__ = ("deps", "encoded", "fingerprint", "getter", "record")

    def __init__(
        self, record: Task, getter: Callable[[Any], Any], fingerprint: bytes, deps: Deps, encoded: bytes
    ) -> None:
        self.record = record
        self.getter = getter
        self.fingerprint = fingerprint
        self.deps = deps
        self.encoded = encoded


class Page:
    """A whole page's encoded array, kept for the same tasks in the same order: checked with
    one fingerprint of all its tasks and the union of their batches' dependencies."""

    __slots__ = ("attrs", "body", "fingerprint", "fragments", "groups", "records")

    def __init__(self, records: tuple[Task, ...], fragments: tuple[Fragment, ...], body: bytes) -> None:
        self.records = records
        self.fragments = fragments
        self.body = body
        self.fingerprint = _fingerprint([f.getter(t) for f, t in zip(fragments, records, strict=True)])
        self.groups = tuple({id(f.deps): f.deps for f in fragments}.values())
        self.attrs: dict[str, bytes] = {}
        for deps in self.groups:
            self.attrs.update(deps.attrs)

    def holds(self, store: Store, page: tuple[Task, ...]) -> bool:
        if not all(map(is_, page, self.records)):
            return False
        fragments = self.fragments
        if _fingerprint([f.getter(t) for f, t in zip(fragments, page, strict=True)]) != self.fingerprint:
            return False
        if not all(deps.identity_holds(store) for deps in self.groups):
            return False
        return all(_dep_fingerprint(store, key) == fingerprint for key, fingerprint in self.attrs.items())


class View:
    """What one field tree (and root URL) keeps: fragments by task gid, pages by their gids."""

    __slots__ = ("fragments", "pages")

    def __init__(self) -> None:
        self.fragments: dict[str, Fragment] = {}
        self.pages: dict[tuple[str, ...], Page] = {}


class FragmentCache:
    """Per store: {(field tree as JSON, root URL): View}."""

    def __init__(self) -> None:
        self.views: dict[tuple[bytes, str], View] = {}
        self.size = 0  # encoded bytes kept, all views together
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self.views.clear()
        self.size = 0

    def view(self, key: tuple[bytes, str]) -> View:
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View()
        return view

    def room(self, size: int) -> None:
        """Counts `size` more bytes kept; past MAX_BYTES everything starts over."""
        if self.size + size > MAX_BYTES:
            self.clear()
        self.size += size

    def keep_page(self, view_key: tuple[bytes, str], gids: tuple[str, ...], page: Page) -> None:
        old = self.view(view_key).pages.pop(gids, None)
        self.size -= len(old.body) if old is not None else 0
        self.room(len(page.body))
        self.view(view_key).pages[gids] = page  # (the cache may have started over meanwhile)

    def keep_fragment(self, view_key: tuple[bytes, str], gid: str, fragment: Fragment | None) -> None:
        old = self.view(view_key).fragments.pop(gid, None)
        self.size -= len(old.encoded) if old is not None else 0
        if fragment is not None:
            self.room(len(fragment.encoded))
            self.view(view_key).fragments[gid] = fragment


# Beside each store (never saved with it); gone with the store.
_CACHES: WeakKeyDictionary[Store, FragmentCache] = WeakKeyDictionary()


def cache_of(store: Store) -> FragmentCache:
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = FragmentCache()
    return cache


_GETTERS: dict[tuple[str, ...], Callable[[Any], Any]] = {}


def _getter(attrs: tuple[str, ...]) -> Callable[[Any], Any]:
    getter = _GETTERS.get(attrs)
    if getter is None:
        getter = _GETTERS[attrs] = attrgetter(*attrs) if attrs else (lambda _record: None)
    return getter


def _fingerprint(values: Any) -> bytes:
    try:
        return orjson.dumps(values)
    except TypeError:
        return _UNREADABLE


# A dependency key is one string ("table gid attr,attr"): its hash is computed once, so the
# per-read checks (set and dict operations on keys) stay in C.
def dep_key(table: str, gid: str, attrs: Iterable[str]) -> str:
    return f"{table} {gid} {','.join(sorted(attrs))}"


_KEYS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {}


def _dep_fingerprint(store: Store, key: str) -> bytes:
    parsed = _KEYS.get(key)
    if parsed is None:
        if len(_KEYS) >= 100_000:
            _KEYS.clear()
        table, gid, names = key.split(" ", 2)
        parsed = _KEYS[key] = (table, gid, _getter(tuple(names.split(",")) if names else ()))
    table, gid, getter = parsed
    record = (store.index if table == "index" else getattr(store, table)).get(gid)
    if record is None:
        return _ABSENT
    return _fingerprint((record.resource_type, getter(record)))


def render_tasks_json(renderer: Renderer, records: Sequence[Record], tree: FieldTree) -> bytes | None:
    """The JSON array of the tasks (byte for byte `encode_json(renderer.render_many(records,
    tree))`), from what is kept where it still holds; None unless every record is a task. Call
    with store.lock held."""
    store = renderer.store
    page = tuple(r for r in records if type(r) is Task)
    if len(page) != len(records):
        return None
    cache = cache_of(store)
    view_key = (orjson.dumps(tree), renderer.root_url)
    gids = tuple(task.gid for task in page)
    kept = cache.view(view_key).pages.get(gids)
    if kept is not None and kept.holds(store, page):
        cache.hits += len(page)
        return kept.body
    parts, fragments = _fragments(renderer, cache, view_key, page, tree)
    body = b"[" + b",".join(parts) + b"]"
    if all(fragment is not None for fragment in fragments):
        cache.keep_page(view_key, gids, Page(page, tuple(f for f in fragments if f is not None), body))
    return body


def _fragments(
    renderer: Renderer,
    cache: FragmentCache,
    view_key: tuple[bytes, str],
    page: tuple[Task, ...],
    tree: FieldTree,
) -> tuple[list[bytes], list[Fragment | None]]:
    """Each task's encoded JSON, kept fragments reused where they hold (the others rendered
    together and kept), and the fragments (None where a render cannot be kept)."""
    store = renderer.store
    kept = cache.view(view_key).fragments
    # 1. fragments whose task and identity dependencies hold; 2. the other records their
    # batches read, each fingerprinted once; 3. reused where all of those match.
    found: list[Fragment | None] = []
    groups: dict[int, Deps] = {}
    for task in page:
        fragment = kept.get(task.gid)
        if (
            fragment is not None
            and fragment.record is task
            and _fingerprint(fragment.getter(task)) == fragment.fingerprint
            and fragment.deps.identity_holds(store)
        ):
            groups[id(fragment.deps)] = fragment.deps
            found.append(fragment)
        else:
            found.append(None)
    needed: set[str] = set()
    for deps in groups.values():
        needed.update(deps.attrs)
    current = {key: _dep_fingerprint(store, key) for key in needed}.items()
    holding = {group: deps.attrs.items() <= current for group, deps in groups.items()}
    parts: list[bytes | None] = []
    fragments: list[Fragment | None] = []
    missing: list[int] = []
    for i, fragment in enumerate(found):
        if fragment is not None and holding[id(fragment.deps)]:
            parts.append(fragment.encoded)
            fragments.append(fragment)
        else:
            parts.append(None)
            fragments.append(None)
            missing.append(i)
    if missing:
        rendered = _render_tracked(renderer, tree, [page[i] for i in missing])
        for i, (encoded, fresh) in zip(missing, rendered, strict=True):
            parts[i], fragments[i] = encoded, fresh
            cache.keep_fragment(view_key, page[i].gid, fresh)
    cache.hits += len(page) - len(missing)
    cache.misses += len(missing)
    return [p for p in parts if p is not None], fragments


def _render_tracked(
    renderer: Renderer, tree: FieldTree, tasks: list[Task]
) -> list[tuple[bytes, Fragment | None]]:
    """Render the tasks as `render_many` does (lookups shared across them) recording every read;
    each task's encoded JSON and the fragment to keep, None for all of them when the renders
    read something this cannot check later."""
    from sandbox.context import encode_json  # context imports this module
    from sandbox.serialize_plan import plan_for

    store = renderer.store
    plan = plan_for(Task, "task", tree, False)
    reads = _Reads(store)
    tracked = _TrackingRenderer(renderer, reads)
    caches: list[dict[Any, Any]] = [{} for _ in range(plan.caches)]
    rendered: list[tuple[bytes, set[str]]] = []
    for task in tasks:
        read: set[str] = set()
        obj = plan.render(tracked, _seen(task, read, reads), caches)
        rendered.append((encode_json(obj), read))
    if reads.unknown:
        return [(encoded, None) for encoded, _read in rendered]
    attrs: dict[str, bytes] = {}
    identity: dict[str, bytes] = {}
    for (table, gid), read_of_dep in reads.records.items():
        key = dep_key(table, gid, read_of_dep)
        (identity if read_of_dep <= _IDENTITY else attrs)[key] = _dep_fingerprint(store, key)
    if _UNREADABLE in attrs.values() or _UNREADABLE in identity.values():
        return [(encoded, None) for encoded, _read in rendered]
    deps = Deps(attrs, identity, store.index_version)
    out: list[tuple[bytes, Fragment | None]] = []
    for task, (encoded, read) in zip(tasks, rendered, strict=True):
        getter = _getter(tuple(sorted(read)))
        fingerprint = _fingerprint(getter(task))
        fragment = Fragment(task, getter, fingerprint, deps, encoded) if fingerprint != _UNREADABLE else None
        out.append((encoded, fragment))
    return out


class _Reads:
    """What one batch of tracked renders looked at."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.records: dict[tuple[str, str], set[str]] = {}  # (table, gid) -> attributes read
        self.unknown = False  # read something not recorded here: the results are not kept
        self.tables: dict[str, _SeenTable] = {}

    def looked_up(self, table: str, gid: str) -> set[str]:
        read = self.records.get((table, gid))
        if read is None:
            read = self.records[(table, gid)] = set()
        return read


class _SeenRecord:
    """Base of the per-record-type classes `_seen` builds: each attribute of the record is a
    property recording its name, anything else (methods, unknown names) is not kept."""

    __slots__ = ("_read", "_reads", "_record")

    def __init__(self, record: Record, read: set[str], reads: _Reads) -> None:
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_reads", reads)

    def __getattr__(self, name: str) -> Any:
        self._reads.unknown = True
        return getattr(self._record, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("rendering never writes records")


def _reader(name: str) -> property:
    def read(self: _SeenRecord) -> Any:
        self._read.add(name)
        return getattr(self._record, name)

    return property(read)


_SEEN_TYPES: dict[type, type[_SeenRecord]] = {}


def _seen(record: Record, read: set[str], reads: _Reads) -> _SeenRecord:
    kind = type(record)
    seen_type = _SEEN_TYPES.get(kind)
    if seen_type is None:
        names = [f.name for f in dataclasses.fields(kind)] + ["resource_type"]
        namespace: dict[str, Any] = {name: _reader(name) for name in names}
        namespace["__slots__"] = ()
        seen_type = _SEEN_TYPES[kind] = type(f"Seen{kind.__name__}", (_SeenRecord,), namespace)
    return seen_type(record, read, reads)


class _SeenTable:
    """A store table whose lookups by gid are recorded; any other use is not kept."""

    __slots__ = ("_name", "_reads", "_table")

    def __init__(self, name: str, table: dict[str, Record], reads: _Reads) -> None:
        self._name = name
        self._table = table
        self._reads = reads

    def _found(self, gid: str, record: Record) -> Any:
        read = self._reads.looked_up(self._name, gid)
        if isinstance(record, Story):
            self._reads.unknown = True  # stories render through their own path (isinstance)
            return record
        return _seen(record, read, self._reads)

    def get(self, gid: str, default: Any = None) -> Any:
        record = self._table.get(gid)
        if record is None:
            self._reads.looked_up(self._name, gid)
            return default
        return self._found(gid, record)

    def __getitem__(self, gid: str) -> Any:
        return self._found(gid, self._table[gid])

    def __contains__(self, gid: object) -> bool:
        if not isinstance(gid, str):
            self._reads.unknown = True
            return gid in self._table
        self._reads.looked_up(self._name, gid)
        return gid in self._table

    def __getattr__(self, name: str) -> Any:  # keys(), values(), items(), len, ...: not kept
        self._reads.unknown = True
        return getattr(self._table, name)

    def __iter__(self) -> Any:
        self._reads.unknown = True
        return iter(self._table)

    def __len__(self) -> int:
        self._reads.unknown = True
        return len(self._table)


class _SeenStore:
    """The store as the tracked render sees it: tables record lookups, anything else is not kept."""

    def __init__(self, reads: _Reads) -> None:
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        reads = self._reads
        table = reads.tables.get(name)
        if table is not None:
            return table
        value = getattr(reads.store, name)
        if name in _TABLES and isinstance(value, dict):
            table = reads.tables[name] = _SeenTable(name, value, reads)
            return table
        reads.unknown = True
        return value


class _TrackingRenderer(Renderer):
    def __init__(self, renderer: Renderer, reads: _Reads) -> None:
        super().__init__(renderer.store, renderer.root_url, renderer._sign)
        self.store = _SeenStore(reads)  # type: ignore[assignment]  # duck-typed: tables and lookups
        self._reads = reads
        self._memo = {}  # shared lookups across the batch, as in render_many

    def download_sig(self, gid: str) -> str:
        self._reads.unknown = True  # depends on the server's secret, not on the records
        return super().download_sig(gid)
