"""Proposal summaries (the agents' markdown) as safe HTML for the console.

The markdown is parsed in one place, `tools.asana.richtext`, the parser that turns the same text
into Asana rich text; this module only maps that rich text (XML built from escaped text and the
parser's own tags) to the page's HTML: headings one level down (the page's `<h1>` is the proposal's
title), tables with a header row, paragraphs and line breaks. Proposal text is model output
(untrusted): every text node is escaped again here, only the tags below are written, and links
are shown as text (no `href` from the model reaches the page).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup, escape

from tools.asana.richtext import markdown_to_html

_INLINE = {"strong": "strong", "em": "em", "u": "u", "s": "s", "code": "code"}
_BLOCK = {"ul": "ul", "ol": "ol", "li": "li", "blockquote": "blockquote"}
_HEADING = {"h1": "h2", "h2": "h3"}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _text(value: str | None, *, breaks: bool = True) -> str:
    out = str(escape(value or ""))
    return out.replace("\n", "<br>") if breaks else out


def _children(el: ET.Element, *, breaks: bool = True) -> str:
    parts = [_text(el.text, breaks=breaks)]
    for child in el:
        parts.append(_element(child))
        parts.append(_text(child.tail, breaks=breaks))
    return "".join(parts)


def _table(el: ET.Element) -> str:
    rows = list(el.iter("tr"))
    if not rows:
        return ""

    def cell(td: ET.Element, header: bool) -> str:
        if header and len(td) == 1 and td[0].tag == "strong" and not (td.text or "").strip():
            inner = _children(td[0])  # richtext bolds header cells; a <th> says it already
        else:
            inner = _children(td)
        return f'<th scope="col">{inner}</th>' if header else f"<td>{inner}</td>"

    head = "".join(cell(td, True) for td in rows[0].iter("td"))
    body = "".join("<tr>" + "".join(cell(td, False) for td in tr.iter("td")) + "</tr>" for tr in rows[1:])
    return (
        f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def _element(el: ET.Element) -> str:
    tag = el.tag
    if tag in _INLINE:
        return f"<{_INLINE[tag]}>{_children(el)}</{_INLINE[tag]}>"
    if tag in _BLOCK:
        return f"<{_BLOCK[tag]}>{_children(el)}</{_BLOCK[tag]}>"
    if tag in _HEADING:
        return f"<{_HEADING[tag]}>{_children(el)}</{_HEADING[tag]}>"
    if tag == "pre":
        return f"<pre>{_children(el, breaks=False)}</pre>"
    if tag == "table":
        return _table(el)
    if tag == "hr":
        return "<hr>"
    if tag == "a":
        label, href = "".join(el.itertext()), el.get("href") or ""
        shown = _children(el)
        return shown if not href or label == href else f"{shown} ({_text(href)})"
    return _children(el)  # a tag this page does not write: its text only


def _is_block(el: ET.Element) -> bool:
    return el.tag in _BLOCK or el.tag in _HEADING or el.tag in ("pre", "table", "hr")


def to_html(markdown: str) -> Markup:
    """The summary as HTML built only from escaped text and this module's own tags."""
    root = ET.fromstring(markdown_to_html(markdown, target="notes"))
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        html = "".join(paragraph).strip()
        while html.startswith("<br>") or html.endswith("<br>"):
            html = html.removeprefix("<br>").removesuffix("<br>").strip()
        if html:
            out.append(f"<p>{html}</p>")
        paragraph.clear()

    def add_text(value: str | None) -> None:
        # Asana rich text has no paragraphs: a blank line between runs of text is one.
        pieces = _PARAGRAPH_BREAK.split(value or "")
        for i, piece in enumerate(pieces):
            if i:
                flush()
            paragraph.append(_text(piece))

    add_text(root.text)
    for child in root:
        if _is_block(child):
            flush()
            out.append(_element(child))
        else:
            paragraph.append(_element(child))
        add_text(child.tail)
    flush()
    return Markup("\n".join(out))  # noqa: S704 - every piece above is escaped or our own tag
