"""Acceptance-criteria extraction: the patterns triage recognises, and what it must not invent."""

from __future__ import annotations

import pytest

from tools.refinement.criteria import extract_criteria


def texts(notes: str) -> list[str]:
    return [c.text for c in extract_criteria(notes).items]


def test_bullets_after_heading_stop_at_prose() -> None:
    notes = "Users need it.\n\nAcceptance criteria:\n- user can log in\n* sees the dashboard\n\nNotes: later"
    result = extract_criteria(notes)
    assert result.heading_found
    assert [c.text for c in result.items] == ["user can log in", "sees the dashboard"]
    assert all(c.kind == "bullet" for c in result.items)


@pytest.mark.parametrize(
    "heading",
    [
        "Acceptance criteria:",
        "## Acceptance Criteria",
        "**Acceptance criteria**",
        "AC:",
        "acceptance-criteria -",
    ],
)
def test_heading_variants(heading: str) -> None:
    assert texts(f"{heading}\n1. first\n2) second") == ["first", "second"]


def test_checkboxes_keep_their_state() -> None:
    result = extract_criteria("Acceptance criteria\n- [ ] export works\n[x] import works")
    assert [(c.text, c.kind, c.checked) for c in result.items] == [
        ("export works", "checkbox", False),
        ("import works", "checkbox", True),
    ]


def test_given_when_then_under_heading_and_standalone() -> None:
    under = texts(
        "Acceptance criteria:\nGiven a signed-in user\nWhen they open settings\nThen they see the theme"
    )
    assert under == ["Given a signed-in user", "When they open settings", "Then they see the theme"]
    alone = extract_criteria("Scenario\nGiven a cart\nWhen I pay\nThen I get a receipt\nAnd an email")
    assert not alone.heading_found and len(alone.items) == 4


def test_inline_criterion_on_heading_line() -> None:
    assert texts("Acceptance criteria: works offline") == ["works offline"]


def test_heading_after_a_sentence() -> None:
    assert texts("The module needs work. Acceptance criteria:\n- module loads") == ["module loads"]


@pytest.mark.parametrize(
    "notes",
    ["", "Make the thing better, somehow.", "- a bullet without heading\n- another", "The AC unit is broken"],
)
def test_absent_criteria(notes: str) -> None:
    assert not extract_criteria(notes).present
