"""Markdown, the subset our agents write, as Asana rich text (`html_text`, `html_notes`).

Asana shows the plain `text` of a comment or status update as typed, so markdown sent there appears
raw (`**`, `##`, `| --- |`). Rich text is an XML fragment with one `<body>` root and only the tags
Asana documents (developers.asana.com/docs/rich-text): `strong, em, u, s, code, ol, ul, li, a,
blockquote, pre` everywhere, plus `h1, h2, hr, img, table, tr, td` in the rich text of some objects
only (task and project notes). So:

- comments and status updates (`target="story"`/`"status_update"`) use the common tags only:
  a heading becomes a bold line, a table a monospaced `<pre>` block, a rule is dropped;
- task/project notes (`target="notes"`) get `<h1>`/`<h2>`, `<hr/>` and `<table>`.

Asana has no paragraph or line-break tags: line breaks are newline characters in the body, and
block elements (lists, `<pre>`, headers) sit on lines of their own. Every piece of text, the
model's and Asana's alike, is escaped; only this module writes tags, so untrusted input can never
add one, close `<body>` early or break the XML. Link targets are kept only for http(s)/mailto.

`html_to_text` gives the plain text Asana pairs with rich text (what reads return as `text`), for
writes that send both (status updates require `text`) and for test doubles.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Target = Literal["story", "status_update", "notes"]

# Characters XML 1.0 cannot carry at all (a raw one makes Asana reject the whole body).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPABLE = frozenset("\\`*_{}[]()#+-.!|~<>")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)[^\s<>\"]+$", re.IGNORECASE)
# Bounded, so a line of thousands of `[` or `<` is not scanned once per bracket.
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\(\s*<?([^\s()<>]{1,2000})>?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^\s<>]{1,2000})>", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?(.*)$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_TAG = re.compile(r"<[^>]*>")
# Emphasis is looked for within a bounded window so hostile input stays linear-ish.
_MAX_SPAN = 2_000
_MAX_CANDIDATES = 64
_MAX_DEPTH = 8


def escape(text: str, *, quote: bool = False) -> str:
    """Text as XML character data (or, with quote, an attribute value); XML-invalid chars dropped."""
    text = _NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def markdown_to_html(markdown: str, *, target: Target = "story", trailer: str | None = None) -> str:
    """Asana rich text (`<body>…</body>`) for markdown; `trailer` (a marker) ends it, verbatim, as a
    paragraph of its own."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = _Blocks(lines, notes=target == "notes").parse()
    if trailer:
        blocks.append((escape(trailer), True))
    out: list[str] = []
    for body, gap in blocks:
        if out:
            # Blocks sit on lines of their own; a blank line in the markdown stays one.
            out.append("\n\n" if gap else "\n")
        out.append(body)
    return f"<body>{''.join(out)}</body>"


def markdown_to_text(markdown: str, *, target: Target = "story") -> str:
    """The plain text Asana will return for markdown sent as rich text: what to look for when
    checking whether a comment was already posted (`**`, `- ` and escapes do not survive)."""
    return html_to_text(markdown_to_html(markdown, target=target))


# --- blocks --------------------------------------------------------------------------------------


@dataclass
class _Item:
    text: str
    children: list[_List] = field(default_factory=list)


@dataclass
class _List:
    ordered: bool
    indent: int
    items: list[_Item] = field(default_factory=list)


class _Blocks:
    """Line-based block parser: the html of each block, and whether a blank line preceded it."""

    def __init__(self, lines: list[str], *, notes: bool) -> None:
        self.lines = lines
        self.notes = notes
        self.i = 0
        self.blocks: list[tuple[str, bool]] = []  # (html, a blank line before it)
        self.gap = False

    def parse(self) -> list[tuple[str, bool]]:
        steps: tuple[Callable[[str], bool], ...] = (
            self._fence,
            self._heading,
            self._rule,
            self._table,
            self._list,
            self._quote,
        )
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                self.i += 1
                self.gap = bool(self.blocks)
                continue
            if not any(step(line) for step in steps):
                self._paragraph()
        return self.blocks

    def _add(self, html: str) -> None:
        self.blocks.append((html, self.gap))
        self.gap = False

    def _starts_block(self, at: int) -> bool:
        line = self.lines[at]
        return bool(
            not line.strip()
            or _FENCE.match(line)
            or _HEADING.match(line)
            or _RULE.match(line)
            or _ITEM.match(line)
            or _QUOTE.match(line)
            or self._is_table(at)
        )

    def _paragraph(self) -> None:
        start = self.i
        self.i += 1
        while self.i < len(self.lines) and not self._starts_block(self.i):
            self.i += 1
        text = "\n".join(line.strip() for line in self.lines[start : self.i])
        self._add(_inline(text))

    def _fence(self, line: str) -> bool:
        m = _FENCE.match(line)
        if not m:
            return False
        fence = m.group(1)
        body: list[str] = []
        self.i += 1
        while self.i < len(self.lines):
            current = self.lines[self.i]
            self.i += 1
            if current.strip().startswith(fence) and not current.strip().strip(fence[0]):
                break
            body.append(current)
        if any(b.strip() for b in body):
            self._add(f"<pre>{escape(chr(10).join(body))}</pre>")
        return True

    def _heading(self, line: str) -> bool:
        m = _HEADING.match(line)
        if not m:
            return False
        self.i += 1
        text = _inline((m.group(2) or "").strip())
        if not text:
            return True
        if self.notes:
            tag = "h1" if len(m.group(1)) == 1 else "h2"
            self._add(f"<{tag}>{text}</{tag}>")
        else:
            self._add(f"<strong>{text}</strong>")
        return True

    def _rule(self, line: str) -> bool:
        if not _RULE.match(line):
            return False
        self.i += 1
        if self.notes:
            self._add("<hr/>")
        return True

    def _quote(self, line: str) -> bool:
        if not _QUOTE.match(line):
            return False
        body: list[str] = []
        while self.i < len(self.lines):
            m = _QUOTE.match(self.lines[self.i])
            if not m:
                break
            body.append(m.group(1).strip())
            self.i += 1
        text = _inline("\n".join(body).strip("\n"))
        if text:
            self._add(f"<blockquote>{text}</blockquote>")
        return True

    # --- lists -----------------------------------------------------------------------------------

    def _list(self, line: str) -> bool:
        if not _ITEM.match(line):
            return False
        roots: list[_List] = []
        stack: list[_List] = []
        while self.i < len(self.lines):
            current = self.lines[self.i]
            m = None if _RULE.match(current) else _ITEM.match(current)
            if m is None:
                if (
                    stack
                    and current[:1] in (" ", "\t")
                    and current.strip()
                    and not self._starts_block(self.i)
                ):
                    stack[-1].items[-1].text += " " + current.strip()  # an indented continuation
                    self.i += 1
                    continue
                after = None if current.strip() else self._next_nonblank(self.i)
                if (
                    after is not None
                    and not _RULE.match(self.lines[after])
                    and _ITEM.match(self.lines[after])
                ):
                    self.i = after  # a blank line inside a (loose) list
                    continue
                break
            indent = len(m.group(1).expandtabs(4))
            ordered = m.group(2)[0].isdigit()
            self._place(roots, stack, indent, ordered)
            stack[-1].items.append(_Item(m.group(3).strip()))
            self.i += 1
        for root in roots:
            self._add(_render_list(root))
        return True

    def _next_nonblank(self, at: int) -> int | None:
        for j in range(at, len(self.lines)):
            if self.lines[j].strip():
                return j
        return None

    @staticmethod
    def _place(roots: list[_List], stack: list[_List], indent: int, ordered: bool) -> None:
        while stack and indent < stack[-1].indent and len(stack) > 1:
            stack.pop()
        if stack and indent > stack[-1].indent and stack[-1].items:
            nested = _List(ordered, indent)
            stack[-1].items[-1].children.append(nested)
            stack.append(nested)
            return
        if stack and stack[-1].ordered == ordered:
            return
        fresh = _List(ordered, stack[-1].indent if stack else indent)
        if len(stack) > 1:
            stack[-2].items[-1].children.append(fresh)
            stack[-1] = fresh
        else:
            roots.append(fresh)
            stack[:] = [fresh]

    # --- tables ----------------------------------------------------------------------------------

    def _is_table(self, at: int) -> bool:
        return (
            at + 1 < len(self.lines)
            and "|" in self.lines[at]
            and "|" in self.lines[at + 1]
            and bool(_TABLE_RULE.match(self.lines[at + 1]))
        )

    def _table(self, line: str) -> bool:
        if not self._is_table(self.i):
            return False
        header = _cells(line)
        aligns = [_align(c) for c in _cells(self.lines[self.i + 1])]
        self.i += 2
        rows: list[list[str]] = []
        while self.i < len(self.lines) and self.lines[self.i].strip() and "|" in self.lines[self.i]:
            rows.append(_cells(self.lines[self.i]))
            self.i += 1
        width = len(header)
        rows = [(r + [""] * width)[:width] for r in rows]
        aligns = (aligns + ["left"] * width)[:width]
        if self.notes:
            self._add(_html_table(header, rows))
        else:
            self._add(_pre_table(header, rows, aligns))
        return True


def _render_list(lst: _List) -> str:
    tag = "ol" if lst.ordered else "ul"
    items = "".join(
        f"<li>{_inline(item.text)}{''.join(_render_list(c) for c in item.children)}</li>"
        for item in lst.items
    )
    return f"<{tag}>{items}</{tag}>"


def _cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1 : i + 2] == "|":
            current.append("\\|")  # stays escaped: the inline pass turns it into a pipe
            i += 2
            continue
        if s[i] == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(s[i])
        i += 1
    cells.append("".join(current).strip())
    return cells


def _align(rule: str) -> str:
    rule = rule.strip()
    if rule.endswith(":") and not rule.startswith(":"):
        return "right"
    return "center" if rule.startswith(":") and rule.endswith(":") else "left"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<td><strong>{_inline(c)}</strong></td>" if c else "<td></td>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _pre_table(header: list[str], rows: list[list[str]], aligns: list[str]) -> str:
    grid = [[_plain_inline(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[k]) for row in grid) for k in range(len(header))]

    def line(row: list[str]) -> str:
        cells = []
        for k, cell in enumerate(row):
            pad = {"right": cell.rjust, "center": cell.center}.get(aligns[k], cell.ljust)
            cells.append(pad(widths[k]))
        return " | ".join(cells).rstrip()

    text = "\n".join([line(grid[0]), "-+-".join("-" * w for w in widths), *(line(r) for r in grid[1:])])
    return f"<pre>{escape(text)}</pre>"


# --- inline --------------------------------------------------------------------------------------


def _plain_inline(text: str) -> str:
    """Inline markdown as plain text (markup dropped), for monospaced blocks."""
    return html.unescape(_TAG.sub("", _inline(text)))


def _inline(text: str, *, links: bool = True, depth: int = 0) -> str:
    if depth > _MAX_DEPTH:
        return escape(text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            out.append(escape(text[i + 1]))
            i += 2
            continue
        if c == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = _code_close(text, i + run, run)
            if close < 0:
                out.append(escape(text[i : i + run]))
                i += run
                continue
            code = text[i + run : close]
            if len(code) > 2 and code[0] == code[-1] == " " and code.strip():
                code = code[1:-1]
            out.append(f"<code>{escape(code)}</code>")
            i = close + run
            continue
        if links and c == "[":
            m = _LINK.match(text, i)
            if m:
                out.append(_link(m.group(1), m.group(2), depth))
                i = m.end()
                continue
        if links and c == "<":
            m = _AUTOLINK.match(text, i)
            if m:
                url = m.group(1)
                out.append(f'<a href="{escape(url, quote=True)}">{escape(url)}</a>')
                i = m.end()
                continue
        matched = _emphasis(text, i, links=links, depth=depth)
        if matched:
            out.append(matched[0])
            i = matched[1]
            continue
        out.append(escape(c))
        i += 1
    return "".join(out)


def _code_close(text: str, start: int, run: int) -> int:
    fence = "`" * run
    j = text.find(fence, start)
    while j >= 0:
        end = j + run
        if text[end : end + 1] != "`":
            return j
        while text[end : end + 1] == "`":
            end += 1
        j = text.find(fence, end)
    return -1


def _link(label: str, url: str, depth: int) -> str:
    shown = _inline(label, links=False, depth=depth + 1) if label.strip() else escape(url)
    if _SAFE_URL.match(url):
        return f'<a href="{escape(url, quote=True)}">{shown}</a>'
    return f"{shown} ({escape(url)})" if label.strip() else shown


_DELIMITERS = (("**", "strong"), ("__", "strong"), ("~~", "s"), ("*", "em"), ("_", "em"))


def _emphasis(text: str, i: int, *, links: bool, depth: int) -> tuple[str, int] | None:
    for delim, tag in _DELIMITERS:
        if not text.startswith(delim, i):
            continue
        start = i + len(delim)
        if start >= len(text) or text[start].isspace():
            continue
        if delim[0] == "_" and i > 0 and text[i - 1].isalnum():
            continue  # snake_case, not emphasis
        if len(delim) == 1 and (text[start] == delim or (i > 0 and text[i - 1] == delim)):
            continue  # one of a run of delimiters that did not pair up
        close = _emphasis_close(text, delim, start)
        if close < 0:
            continue
        inner = _inline(text[start:close], links=links, depth=depth + 1)
        return f"<{tag}>{inner}</{tag}>", close + len(delim)
    return None


def _emphasis_close(text: str, delim: str, start: int) -> int:
    """Where the span opened before `start` closes (same line, bounded search), or -1."""
    line_end = text.find("\n", start)
    limit = min(len(text) if line_end < 0 else line_end, start + _MAX_SPAN)
    single = len(delim) == 1
    j = text.find(delim, start + 1)
    for _ in range(_MAX_CANDIDATES):
        if not 0 <= j < limit:
            break
        if single and text.startswith(delim * 2, j):
            j = text.find(delim, j + 2)  # a double delimiter belongs to a strong span inside
            continue
        after = text[j + len(delim) : j + len(delim) + 1]
        if text[j - 1] not in " \t\\" and not (delim[0] == "_" and after.isalnum()):
            return j
        j = text.find(delim, j + 1)
    return -1


# --- plain text ------------------------------------------------------------------------------------

_BLOCKS = frozenset({"ul", "ol", "li", "blockquote", "pre", "h1", "h2", "hr", "img", "table", "tr"})
_CONTAINERS = frozenset({"ul", "ol", "table", "tr", "hr", "img"})


def html_to_text(rich: str) -> str:
    """The plain text Asana pairs with rich text: tags dropped, entities resolved, list items,
    headers, pre blocks and table rows on lines of their own."""
    return element_to_text(ET.fromstring(rich))


def element_to_text(root: ET.Element) -> str:
    """`html_to_text` of parsed rich text (the sandbox renders what it validated with this)."""
    out = _Plain()
    out.element(root, depth=-1, number=None)
    return "".join(out.parts).strip("\n")


class _Plain:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = False

    def newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        self.pending = False

    def text(self, value: str | None, container: bool) -> None:
        if not value or (container and not value.strip()):
            return
        if self.pending:
            if not value.startswith("\n"):
                self.newline()
            self.pending = False
        self.parts.append(value)

    def element(self, el: ET.Element, depth: int, number: int | None) -> None:
        tag = el.tag
        container = tag in _CONTAINERS
        if tag in _BLOCKS:
            self.newline()
        if tag == "li":
            self.parts.append("  " * max(depth, 0) + (f"{number}. " if number is not None else "• "))
        elif tag == "hr":
            self.parts.append("———")
        self.text(el.text, container)
        items = cells = 0
        for child in el:
            child_number = None
            if child.tag == "li":
                items += 1
                child_number = items if tag == "ol" else None
            elif child.tag == "td":
                if cells:
                    self.parts.append(" | ")
                cells += 1
            self.element(child, depth + 1 if child.tag in ("ul", "ol") else depth, child_number)
            self.text(child.tail, container)
        if tag == "a" and not "".join(el.itertext()):
            self.parts.append(el.get("href", ""))
        if tag in _BLOCKS:
            self.pending = True
