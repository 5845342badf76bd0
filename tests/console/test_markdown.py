"""Proposal summaries: the markdown parsed once (tools/asana/richtext.py, as for Asana) and shown
as safe HTML on the console's proposal page."""

from __future__ import annotations

from service.console.markdown import to_html


def test_headings_emphasis_and_paragraphs() -> None:
    html = str(to_html("# Sprint 24\n## Why\nFirst line\nsecond *line* with **bold** and `code`\n\nNext"))
    assert "<h2>Sprint 24</h2>" in html and "<h3>Why</h3>" in html
    assert (
        "<p>First line<br>second <em>line</em> with <strong>bold</strong> and <code>code</code></p>" in html
    )
    assert "<p>Next</p>" in html


def test_nested_lists_fenced_code_and_quotes() -> None:
    html = str(to_html("- one\n  - one.a\n- two\n\n1. first\n2. second\n\n```\nx = 1 < 2\n```\n\n> said"))
    assert "<ul><li>one<ul><li>one.a</li></ul></li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre>x = 1 &lt; 2</pre>" in html
    assert "<blockquote>said</blockquote>" in html


def test_tables_have_a_header_row() -> None:
    html = str(to_html("| task | points |\n|---|---:|\n| Login | 3 |\n| Cart **fix** | 5 |"))
    assert '<thead><tr><th scope="col">task</th><th scope="col">points</th></tr></thead>' in html
    assert "<tr><td>Login</td><td>3</td></tr><tr><td>Cart <strong>fix</strong></td><td>5</td></tr>" in html


def test_untrusted_text_cannot_add_markup_or_links() -> None:
    html = str(
        to_html(
            '<script>alert(1)</script> <img src=x onerror="y">\n\n'
            "[click](javascript:alert(1)) [docs](https://evil.example/x) <https://a.example>"
        )
    )
    assert "<script" not in html and "<img" not in html and "<a" not in html and "href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "docs (https://evil.example/x)" in html and "https://a.example" in html
