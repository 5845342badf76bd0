"""Asana rich text on write: `html_text` (stories, status updates) and `html_notes` (tasks, projects).

Asana's rules (developers.asana.com/docs/rich-text, "Reading/Writing rich text" and "Blocks and
whitespace"; the forum post "Changes are coming to Rich Text" that introduced h1/h2/hr/img/table):
rich text is an XML fragment with a single `<body>` root, all tags closed and balanced, attribute
values quoted, only the documented tags. Every object takes `strong, em, u, s, code, ol, ul, li, a,
blockquote, pre`; headers, rules, images and tables are accepted only in the rich text of some
objects (task and project notes). The sandbox holds comments and status updates to the common set,
so a writer that passes here stays inside what Asana accepts everywhere. Headers, blockquotes and
pre blocks hold inline content only; lists hold list items; a list item holds inline content and
nested lists.

The plain `text`/`notes` Asana returns alongside is derived from the rich text: tags dropped,
entities resolved, block elements (list items, headers, pre blocks, table rows) on lines of their
own, paragraphs kept as the newlines written in the body.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

from sandbox.errors import ApiError, bad_request

Context = Literal["story", "status_update", "notes"]

INLINE = frozenset({"strong", "em", "u", "s", "code", "a"})
COMMON = INLINE | frozenset({"ol", "ul", "li", "blockquote", "pre"})
NOTES_ONLY = frozenset({"h1", "h2", "hr", "img", "table", "tr", "td"})
TAGS: dict[Context, frozenset[str]] = {"story": COMMON, "status_update": COMMON, "notes": COMMON | NOTES_ONLY}

# What each element may hold (None: text only / empty elements hold nothing).
_CHILDREN: dict[str, frozenset[str]] = {
    **{tag: INLINE for tag in INLINE},
    "ul": frozenset({"li"}),
    "ol": frozenset({"li"}),
    "li": INLINE | {"ul", "ol"},
    "blockquote": INLINE,
    "pre": INLINE,
    "h1": INLINE,
    "h2": INLINE,
    "hr": frozenset(),
    "img": frozenset(),
    "table": frozenset({"tr"}),
    "tr": frozenset({"td"}),
    "td": INLINE,
}
# Containers whose own text must be whitespace (their content is elements).
_NO_TEXT = frozenset({"ul", "ol", "table", "tr", "hr", "img"})
_ATTRIBUTES: dict[str, tuple[frozenset[str], str | None]] = {
    # (named attributes, prefix of further allowed attributes)
    "a": (frozenset({"href"}), "data-asana-"),
    "img": (frozenset({"src", "alt", "style"}), "data-"),
    "table": (frozenset(), "data-"),
    "tr": (frozenset(), "data-"),
    "td": (frozenset(), "data-"),
}


class RichTextError(ValueError):
    """The rich text is not what Asana accepts; the message says why."""


def parse(html: str, context: Context) -> ET.Element:
    """The `<body>` element of valid rich text, or RichTextError."""
    if "<!" in html or "<?" in html:
        raise RichTextError("declarations, comments, CDATA and processing instructions are not allowed")
    try:
        root = ET.fromstring(html)
    except ET.ParseError as exc:
        raise RichTextError(str(exc)) from None
    if root.tag != "body":
        raise RichTextError(f"the root element must be <body>, not <{root.tag}>")
    if root.attrib:
        raise RichTextError("<body> takes no attributes")
    allowed = TAGS[context]
    for child in root:
        _check(child, allowed)
    return root


def _check(el: ET.Element, allowed: frozenset[str]) -> None:
    tag = el.tag
    if tag not in allowed:
        raise RichTextError(f"<{tag}> is not a supported tag here")
    names, prefix = _ATTRIBUTES.get(tag, (frozenset(), None))
    for attr in el.attrib:
        if attr not in names and not (prefix and attr.startswith(prefix)):
            raise RichTextError(f"<{tag}> does not take the attribute {attr!r}")
    if tag in _NO_TEXT and any(t and t.strip() for t in (el.text, *(c.tail for c in el))):
        raise RichTextError(f"<{tag}> cannot hold text directly")
    if tag in ("h1", "h2") and "\n" in "".join(el.itertext()):
        raise RichTextError(f"<{tag}> cannot hold a line break")
    inner = _CHILDREN[tag]
    for child in el:
        if child.tag not in inner:
            if child.tag not in allowed:
                raise RichTextError(f"<{child.tag}> is not a supported tag here")
            raise RichTextError(f"<{child.tag}> is not allowed inside <{tag}>")
        _check(child, allowed)


def plain_text(root: ET.Element) -> str:
    """The plain text Asana pairs with this rich text (one renderer, shared with the client, which
    must send it as `text` beside a status update's `html_text`)."""
    from tools.asana.richtext import element_to_text

    return element_to_text(root)


def validated(field: str, value: object, context: Context) -> tuple[str, str]:
    """(rich text, derived plain text) for a write, or a 400 in Asana's error shape."""
    if not isinstance(value, str):
        raise bad_request(f"{field}: Value is not a string")
    try:
        root = parse(value, context)
    except RichTextError as exc:
        raise ApiError(400, f"{field}: XML is invalid: {exc}") from None
    return value, plain_text(root)
