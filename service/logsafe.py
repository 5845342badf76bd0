"""Log lines that text from Asana or a model cannot forge or garble.

A task name with a newline would start a fake log line ("INFO approval granted"), an ESC sequence
would recolour or clear a terminal, a NUL cuts lines in some collectors. The formatter writes every
control character of a record's message (newline and carriage return included) and every lone
surrogate as a visible escape (`\\n`, `\\x1b`, `\\ud800`); a traceback keeps its own lines.
"""

from __future__ import annotations

import logging
import re

_UNSAFE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with each control character and lone surrogate written as an escape."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(
        lambda m: _NAMED.get(m.group(), m.group().encode("unicode_escape").decode("ascii")), text
    )


class SafeFormatter(logging.Formatter):
    """`logging.Formatter` whose message part cannot hold control characters."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's API
        record.message = escape_controls(record.message)
        return super().formatMessage(record)
