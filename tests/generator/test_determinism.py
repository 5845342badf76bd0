"""Same seed and anchor -> byte-identical state; other seeds or anchors -> different state."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sandbox.generator import generate_workspace
from sandbox.store import Store


def _dump(seed: int, **kwargs: object) -> str:
    ws = generate_workspace(seed, **kwargs)  # type: ignore[arg-type]
    return json.dumps(ws.store.to_json(), sort_keys=True)


def test_same_seed_gives_identical_saved_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    generate_workspace(7).store.save(first)
    generate_workspace(7).store.save(second)
    assert first.read_bytes() == second.read_bytes()


def test_token_is_deterministic_and_maps_to_the_bot() -> None:
    a, b = generate_workspace(3), generate_workspace(3)
    assert a.token == b.token
    bot = a.store.user_for_token(a.token)
    assert bot is not None and bot.name == "sprintpilot"
    assert generate_workspace(4).token != a.token


def test_different_seeds_and_anchors_differ() -> None:
    assert _dump(7) != _dump(8)
    assert _dump(7) != _dump(7, anchor=date(2026, 12, 7))


def test_saved_state_round_trips(tmp_path: Path) -> None:
    ws = generate_workspace(11)
    path = tmp_path / "state.json"
    ws.store.save(path)
    assert Store.load(path).to_json() == ws.store.to_json()


def test_every_timestamp_derives_from_the_anchor() -> None:
    # With an anchor years away from today, a leaked wall-clock timestamp would fall outside.
    anchor = date(2031, 3, 3)
    stamps = re.findall(r'"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}\.\d{3}Z"', _dump(7, anchor=anchor))
    assert len(stamps) > 500
    days = {date.fromisoformat(s) for s in stamps}
    assert min(days) >= anchor - timedelta(days=365)
    assert max(days) < anchor


def test_default_workspace_generates_fast() -> None:
    started = time.perf_counter()
    generate_workspace(5)
    assert time.perf_counter() - started < 2.0


def test_identical_across_processes_with_different_hash_seeds() -> None:
    # Set iteration order depends on PYTHONHASHSEED; the state must not.
    script = (
        "import hashlib, json\n"
        "from sandbox.generator import generate_workspace\n"
        "ws = generate_workspace(7)\n"
        "print(hashlib.sha256(json.dumps(ws.store.to_json(), sort_keys=True).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    digests.add(hashlib.sha256(_dump(7).encode()).hexdigest())
    assert len(digests) == 1
