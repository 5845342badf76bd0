"""Bounded reads of user-supplied DoD sources (issue 18, "Inputs"): `--dod /dev/zero` stops at the
size cap, a 20,000-deep YAML document is refused by name instead of a RecursionError, and a broken
DoD task fails only the reviews that use it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from graphs.runner import start_run
from tests.qa.world import QaWorld
from tools.dod.loader import MAX_YAML_DEPTH, DodConfigError, load_dod_file, parse_dod_text

DEEP = "checks:\n  - " + "[" * 20_000 + "]" * 20_000 + "\n"


def _one_line(err: pytest.ExceptionInfo[DodConfigError]) -> str:
    message = str(err.value)
    assert "\n" not in message and len(message) < 200
    return message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_the_dod_file_stops_at_the_cap() -> None:
    with pytest.raises(DodConfigError) as err:
        load_dod_file("/dev/zero")
    assert _one_line(err) == "DoD file /dev/zero is larger than 1 MB"


def test_a_deep_yaml_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    dod = tmp_path / "deep.yaml"
    dod.write_text(DEEP)
    with pytest.raises(DodConfigError) as err:
        load_dod_file(dod)
    assert _one_line(err) == f"{dod}: YAML nested deeper than {MAX_YAML_DEPTH} levels"


def test_a_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    dod = tmp_path / "bomb.yaml"
    dod.write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nchecks: [*b, *b]\n')
    with pytest.raises(DodConfigError, match="aliases"):
        load_dod_file(dod)


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    dod = tmp_path / "latin1.yaml"
    dod.write_bytes(b"checks: [caf\xe9]\n")
    with pytest.raises(DodConfigError) as err:
        load_dod_file(dod)
    assert _one_line(err).endswith("is not UTF-8 text")


def test_deep_yaml_in_a_dod_task_is_refused_naming_the_task() -> None:
    with pytest.raises(DodConfigError) as err:
        parse_dod_text(DEEP, "asana-task:42")
    assert _one_line(err).startswith("asana-task:42: YAML nested deeper")


def test_a_shallow_dod_still_loads(tmp_path: Path) -> None:
    dod = tmp_path / "ok.yaml"
    dod.write_text("checks:\n  - required_fields: [Story Points]\n  - subtasks_complete\n")
    assert load_dod_file(dod).config.check_ids() == ["required_fields", "subtasks_complete"]


@pytest.mark.integration
def test_a_deep_dod_task_fails_its_review_by_name_and_other_reviews_go_on(qa_world: QaWorld) -> None:
    w = qa_world
    dod_task = w.store.add_task(w.ws, "Definition of Done", notes=DEEP, memberships=[(w.project, None)]).gid
    gid = w.task("Password reset")
    out = start_run(w.graph, w.ctx(), uuid.uuid4().hex, {"agent": "qa", "args": {"task": gid}})
    assert out.status == "error"
    assert f"asana-task:{dod_task}: YAML nested deeper" in str(out.report)
    assert "RecursionError" not in str(out.report)
    # The same graph reviews the next task (here with an explicit DoD) as usual.
    again = start_run(
        w.graph,
        w.ctx(),
        uuid.uuid4().hex,
        {"agent": "qa", "args": {"task": gid, "dod": {"checks": ["subtasks_complete"]}}},
    )
    assert again.status != "error", again.report
