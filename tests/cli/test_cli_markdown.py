"""Markdown the CLI prints keeps text in angle brackets: markdown-it reads `<model>` or
`List<String>` as inline HTML, which rich drops without a word."""

from __future__ import annotations

import io

from graphs.chat.grammar import FREE_TEXT_NEEDS_MODEL
from service.cli.render import CliConsole, CliMarkdown


def _shown(markup: str) -> str:
    out = io.StringIO()
    CliConsole(file=out, width=200, color_system=None).print(CliMarkdown(markup))
    return " ".join(out.getvalue().split())


def test_the_chat_hint_keeps_its_placeholders() -> None:
    shown = _shown(FREE_TEXT_NEEDS_MODEL)
    assert "SPRINTPILOT_MODEL=openai:<model>" in shown
    assert "openai-compatible:<model> with" in shown


def test_angle_brackets_in_a_summary_and_an_html_block_are_shown_as_written() -> None:
    shown = _shown("Returns a List<String> of names.\n\n<div>kept</div>\n\nand `Map<K, V>` too")
    assert "Returns a List<String> of names." in shown
    assert "<div>kept</div>" in shown and "Map<K, V>" in shown
