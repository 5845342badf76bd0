"""The estimator learns from corrected points: after a person corrects a task's estimate in
Asana, a near-identical task is estimated toward the correction."""

from __future__ import annotations

from service.runtime import Runtime
from tests.feedback.world import Person, deliver, new_task, newest_story, triage

EST = "Estimated Story Points"
NAME = "Export the delivery tracking history as CSV with timestamps and carrier names"
NOTES = (
    "Acceptance criteria:\n- a CSV download button on the tracking page\n- includes timestamps and carrier"
)


def test_corrected_points_move_the_estimate_of_a_similar_task(rt: Runtime, po: Person) -> None:
    first = new_task(po, rt, NAME, NOTES)
    triage(rt, first)
    ai = rt.asana.task(first).number(EST)
    assert ai is not None
    corrected = 21.0 if ai < 13 else 1.0
    field = rt.asana.task(first).custom_field(EST)
    assert field is not None
    po.client.update_task(first, {"custom_fields": {field.gid: corrected}})
    assert deliver(rt, newest_story(rt, first), first, po.gid)["status"] == "done"

    second = new_task(po, rt, NAME + " (v2)", NOTES)
    report = triage(rt, second)
    estimate = rt.asana.task(second).number(EST)
    assert estimate is not None
    assert abs(estimate - corrected) < abs(ai - corrected), (ai, estimate, corrected, report)
