"""A reviewer's reason is bounded (500 characters, as the console's field) and printable: it is
stored with every action decided and audited per action, and shown in terminals and Asana."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.proposal import MAX_DECISION_MESSAGE, Decision


def test_control_characters_are_removed_and_lines_kept() -> None:
    decision = Decision(type="reject", message="not \x1b[31mnow\x00\n\tlater")
    assert decision.message == "not [31mnow\n\tlater"


def test_a_reason_longer_than_the_console_allows_is_refused() -> None:
    assert Decision(type="reject", message="x" * MAX_DECISION_MESSAGE).message
    with pytest.raises(ValidationError):
        Decision(type="reject", message="x" * (MAX_DECISION_MESSAGE + 1))
