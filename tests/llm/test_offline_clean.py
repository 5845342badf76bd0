"""`shorten` cuts a reason dropped into an offline writer's parentheses: between words, with no
parenthesis left open (the plan summary read "(depends on 'X' (120000000000023…), plus 5 more")."""

from __future__ import annotations

from tools.llm.offline import clean, shorten


def test_a_cut_falls_between_words_and_closes_no_parenthesis_it_cannot() -> None:
    reason = "depends on 'Fix N+1 queries in onboarding' (1200000000000233), which cannot be planned"
    assert shorten(reason, 60) == "depends on 'Fix N+1 queries in onboarding'…"
    assert shorten("one two three four five six", 12) == "one two…"


def test_short_text_and_one_long_word_are_kept_or_cut_plainly() -> None:
    assert shorten("  fits\n   here ", 20) == clean("  fits\n   here ", 20) == "fits here"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"
