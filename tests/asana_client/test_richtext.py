"""Markdown → Asana rich text: the subset agents write, always valid for Asana, never injectable.

Every output is checked with the sandbox's reading of Asana's rules (sandbox/richtext.py: one
`<body>` root, well-formed XML, the documented tags for the object), so a converter change that
would earn a 400 from Asana fails here first.
"""

from __future__ import annotations

import random

import pytest

from sandbox.richtext import parse, plain_text
from tools.asana.richtext import Target, escape, html_to_text, markdown_to_html, markdown_to_text

MARK = "⟨sp:0123456789⟩"


def rich(markdown: str, target: Target = "story", trailer: str | None = None) -> str:
    html = markdown_to_html(markdown, target=target, trailer=trailer)
    root = parse(html, target)  # what Asana accepts for this object, or RichTextError
    assert plain_text(root) == html_to_text(html)  # the client's plain text is Asana's
    return html


def test_inline_markup() -> None:
    html = rich("**bold**, *it*, _it_, __strong__, ~~gone~~ and `a < b` [docs](https://x.test/a?b=1&c=2)")
    assert html == (
        "<body><strong>bold</strong>, <em>it</em>, <em>it</em>, <strong>strong</strong>, <s>gone</s> and "
        '<code>a &lt; b</code> <a href="https://x.test/a?b=1&amp;c=2">docs</a></body>'
    )
    assert html_to_text(html) == "bold, it, it, strong, gone and a < b docs"


def test_not_emphasis() -> None:
    html = rich(r"snake_case_name, 2 * 3 * 4, a ** b, \*literal\*, unclosed **bold, __init")
    assert "<em>" not in html and "<strong>" not in html
    assert html_to_text(html) == "snake_case_name, 2 * 3 * 4, a ** b, *literal*, unclosed **bold, __init"


def test_nested_emphasis_and_code_stays_literal() -> None:
    assert rich("*a **b** c*") == "<body><em>a <strong>b</strong> c</em></body>"
    assert rich("`**not bold**` and ``code with ` tick``") == (
        "<body><code>**not bold**</code> and <code>code with ` tick</code></body>"
    )


def test_headings_in_comments_are_bold_lines_and_in_notes_headers() -> None:
    md = "# Sprint 24\n## Risks\nText under it\n### Small"
    assert rich(md) == (
        "<body><strong>Sprint 24</strong>\n<strong>Risks</strong>\nText under it\n"
        "<strong>Small</strong></body>"
    )
    assert (
        rich(md, "notes") == "<body><h1>Sprint 24</h1>\n<h2>Risks</h2>\nText under it\n<h2>Small</h2></body>"
    )
    assert rich("#hashtag is text") == "<body>#hashtag is text</body>"


def test_paragraphs_keep_their_line_breaks() -> None:
    html = rich("First line\nsecond line\n\n\nNext paragraph")
    assert html == "<body>First line\nsecond line\n\nNext paragraph</body>"
    assert html_to_text(html) == "First line\nsecond line\n\nNext paragraph"


def test_lists_nested_and_mixed() -> None:
    md = "Intro:\n- one\n- two\n  1. a\n  2. b\n    * deep\n- three\n\n- loose\n\n1) first\n2) second\nAfter"
    html = rich(md)
    assert html == (
        "<body>Intro:\n<ul><li>one</li><li>two<ol><li>a</li><li>b<ul><li>deep</li></ul></li></ol></li>"
        "<li>three</li><li>loose</li></ul>\n<ol><li>first</li><li>second</li></ol>\nAfter</body>"
    )
    assert html_to_text(html) == (
        "Intro:\n• one\n• two\n  1. a\n  2. b\n    • deep\n• three\n• loose\n1. first\n2. second\nAfter"
    )


def test_list_item_continuation_and_markup() -> None:
    assert rich("- **Risk:** late\n  because of the API\n-  spaced") == (
        "<body><ul><li><strong>Risk:</strong> late because of the API</li><li>spaced</li></ul></body>"
    )


TABLE = (
    "| # | Task | Points |\n"
    "|---|------|-------:|\n"
    "| 1 | **Login** | 3 |\n"
    "| 2 | Sign\\|up | 13 |\n"
    "| 3 | short row |\n"
)


def test_tables_in_comments_are_monospaced_blocks() -> None:
    html = rich("Plan:\n" + TABLE + "\nDone.")
    assert html == (
        "<body>Plan:\n<pre>"
        "# | Task      | Points\n"
        "--+-----------+-------\n"
        "1 | Login     |      3\n"
        "2 | Sign|up   |     13\n"
        "3 | short row |"
        "</pre>\n\nDone.</body>"
    )


def test_tables_in_notes_are_tables() -> None:
    html = rich(TABLE, "notes")
    assert html.startswith("<body><table><tr><td><strong>#</strong></td>")
    assert "<tr><td>1</td><td><strong>Login</strong></td><td>3</td></tr>" in html
    assert "<tr><td>3</td><td>short row</td><td></td></tr></table></body>" in html


def test_fences_quotes_and_rules() -> None:
    md = "```python\nif a < b:\n    print('**x**')\n```\n> quoted **bold**\n> more\n\n---\nend"
    assert rich(md) == (
        "<body><pre>if a &lt; b:\n    print('**x**')</pre>\n"
        "<blockquote>quoted <strong>bold</strong>\nmore</blockquote>\n\nend</body>"
    )
    assert "<hr/>" in rich(md, "notes")
    assert rich("```\nnever closed\n**x**") == "<body><pre>never closed\n**x**</pre></body>"


def test_trailer_is_its_own_paragraph_and_verbatim() -> None:
    html = rich("**Summary**\n- a", trailer=MARK)
    assert html == f"<body><strong>Summary</strong>\n<ul><li>a</li></ul>\n\n{MARK}</body>"
    assert html_to_text(html) == f"Summary\n• a\n\n{MARK}"
    assert rich("", trailer=MARK) == f"<body>{MARK}</body>"
    assert rich("text", trailer="*_<odd>_*") == "<body>text\n\n*_&lt;odd&gt;_*</body>"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "</body><body>",
        "Tom & Jerry &amp; &lt; &#x41; &nbsp;",
        '<a href="javascript:alert(1)">x</a>',
        "**</strong><script>**",
        "[x](javascript:alert(1)) [y](<javascript:alert(2)>) [z](data:text/html,hi)",
        '[q](https://x.test/"onmouseover="alert(1))',
        "<https://ok.test/?a=1&b=2> <javascript:alert(1)>",
        "nul\x00 vt\x0b ff\x0c esc\x1b lone\ud800 end",
        "| <b> | x |\n|---|---|\n| </body> | & |",
        "```\n</pre></body>\n```",
        "- <li>\n  - </ul>",
        "# <h1>\n> </blockquote>",
    ],
)
@pytest.mark.parametrize("target", ["story", "status_update", "notes"])
def test_hostile_text_never_becomes_markup(hostile: str, target: Target) -> None:
    html = rich(hostile, target, trailer=MARK)
    root = parse(html, target)
    assert root.tag == "body" and not root.attrib
    tags = {el.tag for el in root.iter()} - {"body"}
    assert tags <= {"strong", "em", "s", "code", "a", "ul", "ol", "li", "pre", "blockquote"} | (
        {"h1", "h2", "hr", "table", "tr", "td"} if target == "notes" else set()
    )
    assert "script" not in tags and "b" not in tags
    for link in root.iter("a"):
        assert link.get("href", "").startswith(("https://", "http://", "mailto:"))
        assert '"' not in link.get("href", "")
    assert html_to_text(html).endswith(MARK)


def test_escape() -> None:
    assert escape('<a href="x">&</a>') == '&lt;a href="x"&gt;&amp;&lt;/a&gt;'
    assert escape('"', quote=True) == "&quot;"
    assert escape("a\x00b\x08c\td\ne") == "abc\td\ne"


def test_random_markdownish_input_is_always_valid_rich_text() -> None:
    alphabet = ["*", "**", "_", "`", "~~", "[", "]", "(", ")", "<", ">", "&", "|", "#", "-", "1.", " ", "\n"]
    alphabet += ["\n\n", "  ", "> ", "```", "---", "a", "b", "https://x.test", "\\", '"', "é", "⟨"]
    rng = random.Random(16)
    for _ in range(400):
        md = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        for target in ("story", "notes"):
            rich(md, target, trailer=MARK)


def test_long_hostile_input_stays_fast() -> None:
    import time

    for md in ["*a _b `c [d " * 5_000 + "\n" + "**x " * 5_000, "[" * 60_000, "<https://" * 6_000]:
        start = time.perf_counter()
        html = rich(md)
        assert time.perf_counter() - start < 5
        assert html.startswith("<body>")


def test_markdown_to_text_is_what_a_repeat_check_must_look_for() -> None:
    posted = html_to_text(
        markdown_to_html("Heads-up: “Fix *login*” slipped\n- due \\*today\\*", trailer=MARK)
    )
    wanted = "Heads-up: “Fix *login*” slipped\n- due \\*today\\*"
    assert wanted not in posted and markdown_to_text(wanted) in posted
    assert markdown_to_text(wanted) == "Heads-up: “Fix login” slipped\n• due *today*"
