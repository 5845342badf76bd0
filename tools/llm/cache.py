"""Record/replay of model answers: one JSON file per (model, rendered prompt, output schema).

Evals and tests replay recorded answers with no network. The key covers the exact rendered
prompt, so any change in a template or variable is a miss rather than a stale answer; prompts are
byte-stable (no clock inside) so identical inputs always hit.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_key(model: str, rendered_prompt: str, schema_name: str) -> str:
    raw = "\x1f".join((model, rendered_prompt, schema_name))
    return hashlib.sha256(raw.encode()).hexdigest()


class ResponseCache:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if not path.is_file():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        response = record.get("response")
        return response if isinstance(response, dict) else None

    def put(self, key: str, response: dict[str, Any], **meta: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {**meta, "response": response}
        # Write-then-rename so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, sort_keys=True, ensure_ascii=False, indent=1)
        os.replace(tmp, self._path(key))
