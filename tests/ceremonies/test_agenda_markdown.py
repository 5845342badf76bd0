"""An agenda read as markdown (the CLI and the console render it) keeps its sections numbered
1, 2, 3, 4: the numbered backlog candidates and the bullets nest under their section. Before, the
candidates continued the section list (sections 2–13, then "4. Agree the sprint goal")."""

from __future__ import annotations

from datetime import UTC, datetime

from markdown_it import MarkdownIt

from tools.ceremonies.agenda import ActionLine, BacklogLine, Forecast, planning_agenda

START = datetime(2026, 12, 7, 9, tzinfo=UTC)
END = datetime(2026, 12, 7, 10, tzinfo=UTC)


def _top_level_items(text: str) -> list[str]:
    """The first line of each item of the top-level ordered lists, in order."""
    tokens = MarkdownIt().parse(text)
    out, depth = [], 0
    for i, token in enumerate(tokens):
        if token.type in ("ordered_list_open", "bullet_list_open"):
            depth += 1
        elif token.type in ("ordered_list_close", "bullet_list_close"):
            depth -= 1
        elif token.type == "inline" and depth == 1 and tokens[i - 2].type == "list_item_open":
            item = tokens[i - 2]
            if item.markup == ".":
                out.append(f"{item.info}. {token.content.splitlines()[0]}")
    return out


def test_planning_sections_stay_numbered_with_candidates_nested() -> None:
    agenda = planning_agenda(
        "Sprint 24",
        START,
        END,
        "UTC",
        Forecast(history=[30, 34], p50=32, capacity=40),
        [BacklogLine(name=f"Story {i}", points=3) for i in range(1, 11)],
        [ActionLine(name="Fix the flaky test", owner="Ana")],
    )
    assert _top_level_items(agenda.text) == [
        "1. Where we stand",
        "2. Candidates from the groomed backlog (top 10, in the backlog's order)",
        "3. Open action items from earlier retros",
        "4. Agree the sprint goal and the commitment",
    ]
    assert "   10. Story 10 — 3 pts" in agenda.text
