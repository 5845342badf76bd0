"""A tiny, safe Markdown subset for proposal summaries: headings, bold, italics, inline code,
lists, tables and paragraphs.

Proposal text is model output (untrusted), so every line is HTML-escaped first and only then
are the few constructs above turned into tags this module writes itself: no raw HTML, no links,
no images, no attributes taken from the text. Anything else stays as escaped text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> str:
    """Escaped text with **bold**, *italic* and `code` (applied after escaping, so safe)."""
    out = str(escape(text))
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(rows: list[str]) -> list[str]:
    head, body = _cells(rows[0]), [_cells(r) for r in rows[2:]]
    out = ['<div class="table-scroll"><table>', "<thead><tr>"]
    out += [f'<th scope="col">{inline(c)}</th>' for c in head]
    out.append("</tr></thead><tbody>")
    for cells in body:
        out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return out


def to_html(markdown: str) -> Markup:
    """The summary as HTML built only from escaped text and this module's own tags."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    open_list: str | None = None

    def flush() -> None:
        nonlocal open_list
        if paragraph:
            out.append("<p>" + "<br>".join(inline(p) for p in paragraph) + "</p>")
            paragraph.clear()
        if open_list:
            out.append(f"</{open_list}>")
            open_list = None

    i = 0
    while i < len(lines):
        line = lines[i]
        if "|" in line and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1]):
            flush()
            end = i + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            out += _table(lines[i:end])
            i = end
            continue
        heading, bullet, numbered = _HEADING.match(line), _BULLET.match(line), _NUMBERED.match(line)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 1, 6)  # the page's own <h1> is the proposal title
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            kind = "ul" if bullet else "ol"
            if paragraph or open_list != kind:
                flush()
                out.append(f"<{kind}>")
                open_list = kind
            item = (bullet or numbered).group(1)  # type: ignore[union-attr]
            out.append(f"<li>{inline(item)}</li>")
        elif not line.strip():
            flush()
        else:
            if open_list:
                flush()
            paragraph.append(line.strip())
        i += 1
    flush()
    return Markup("\n".join(out))  # noqa: S704 - every piece above is escaped or our own tag
