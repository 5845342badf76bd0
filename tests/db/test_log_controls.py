"""Issue 18, "Inputs": control characters from Asana text cannot forge or garble log lines."""

from __future__ import annotations

import io
import logging

from service.logsafe import SafeFormatter, escape_controls


def test_control_characters_are_escaped_in_log_messages() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("test.logsafe")
    log.addHandler(handler)
    try:
        log.warning("task %s stalled", "Fix login\nINFO approval granted by admin\x1b[2J\x00")
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == ["WARNING task Fix login\\nINFO approval granted by admin\\x1b[2J\\x00 stalled"]


def test_plain_text_is_untouched() -> None:
    text = "Sprint 24 — ready ✓"
    assert escape_controls(text) is text
    assert escape_controls("a\tb\r\ud800") == "a\\tb\\r\\ud800"
