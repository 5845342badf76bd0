"""NUL and other control characters in text the app DB stores (issue 18, "Inputs"): Postgres
refuses NUL in text and `\\u0000` in JSONB, so every backend stores U+FFFD instead, and the audit
chain still verifies (the record is cleaned before it is hashed)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from graphs.ports import AuditRecord
from service.db import SqlAuditLog, verify_chain, write_session
from service.db.models import Run
from service.db.text import clean_parameters, clean_text, clean_value

DIRTY = "a\x00b\x1b[31m\x07c\td\ne\rf\ud800"
CLEAN = "a\ufffdb\ufffd[31m\ufffdc\td\ne\rf\ufffd"


def test_clean_text_keeps_tab_newline_and_return() -> None:
    assert clean_text(DIRTY) == CLEAN
    assert clean_value({"k\x00": [DIRTY, 1, None, (DIRTY,)]}) == {"k\ufffd": [CLEAN, 1, None, (CLEAN,)]}
    assert clean_parameters([{"a": DIRTY}, {"a": "ok"}]) == [{"a": CLEAN}, {"a": "ok"}]
    assert clean_parameters((DIRTY, 3)) == (CLEAN, 3)


def test_audit_rows_with_nul_are_stored_cleaned_and_verify(
    engine: Engine, make_record: Callable[..., AuditRecord]
) -> None:
    log = SqlAuditLog(engine)
    log.append(make_record(0))
    log.append(
        make_record(
            1,
            reason=DIRTY,
            target="12\x00",
            before={"name": DIRTY},
            after={"name\x00": [DIRTY]},
            details={"note": DIRTY},
        )
    )
    row = max(log.rows(5), key=lambda r: r.id)
    assert row.reason == CLEAN and row.target == "12\ufffd"
    assert row.before == {"name": CLEAN} and row.after == {"name\ufffd": [CLEAN]}
    assert row.details == {"note": CLEAN}
    assert verify_chain(engine).ok


def test_text_and_json_columns_take_nul(engine: Engine) -> None:
    with write_session(engine) as s:
        s.add(
            Run(
                thread_id="t-nul",
                agent="triage",
                trigger="cli",
                request={"name": DIRTY},
                status="done",
                detail=DIRTY,
            )
        )
    with engine.connect() as conn:
        request, detail = conn.execute(select(Run.request, Run.detail).where(Run.thread_id == "t-nul")).one()
    assert request == {"name": CLEAN} and detail == CLEAN
