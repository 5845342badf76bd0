"""The near-duplicate rule for retro action items, on the cases its threshold was chosen on."""

from __future__ import annotations

import itertools

import pytest

from agents.retro.analysis import REMEDIES
from tools.retro.dedupe import SIMILAR, best_match, normalize_title, similarity

CARRY_OVER = "Plan to ~80% of median velocity and split stories above 8 points"
PROPOSED = [*REMEDIES.values(), CARRY_OVER]


@pytest.mark.parametrize(
    ("open_item", "proposed"),
    [
        ("Quarantine flaky UI tests", REMEDIES["Flaky or failing tests"]),
        ("Stabilise the staging environment", REMEDIES["Environments and CI/CD"]),
        ("Agree a Definition of Ready with design", REMEDIES["Unclear requirements"]),
        ("Split stories above 8 points before planning", CARRY_OVER),
        ("Split stories above 8 points before planning", REMEDIES["Estimates and scope creep"]),
        (REMEDIES["Code review delays"], REMEDIES["Code review delays"]),
        ("set a review SLA of 1 working day, rotate the daily reviewer!", REMEDIES["Code review delays"]),
    ],
)
def test_a_teams_wording_of_the_same_item_is_a_near_duplicate(open_item: str, proposed: str) -> None:
    assert similarity(proposed, open_item) >= SIMILAR


@pytest.mark.parametrize(
    ("open_item", "proposed"),
    [
        ("Rotate the on-call buddy weekly", REMEDIES["Context switching and interruptions"]),
        ("Timebox code reviews to 24 hours", REMEDIES["Code review delays"]),  # same aim, no shared words
        ("Fix flaky tests", REMEDIES["Bugs and regressions"]),  # one shared word ("tests") is not enough
        ("Write tests", REMEDIES["Flaky or failing tests"]),
    ],
)
def test_different_items_stay_apart(open_item: str, proposed: str) -> None:
    assert similarity(proposed, open_item) < SIMILAR


def test_no_two_items_the_retro_proposes_count_as_one() -> None:
    for a, b in itertools.combinations(PROPOSED, 2):
        assert similarity(a, b) < SIMILAR, (a, b)


def test_normalised_name_ignores_wording_and_order() -> None:
    assert normalize_title("Quarantine the flakiest tests") == normalize_title("tests: quarantine flaky")
    assert normalize_title("Split stories above eight points") == normalize_title("split story above 8 point")


def test_best_match_picks_the_closest_open_item() -> None:
    items = [("Stabilise the staging environment", "a"), ("Stabilise shared environment health check", "b")]
    match = best_match(REMEDIES["Environments and CI/CD"], items)
    assert match is not None and match[0] == "b"
    assert best_match(REMEDIES["Bugs and regressions"], items) is None
