"""`python -m evals.throughput` stops with one line on a missing or empty folder (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.throughput import main


@pytest.mark.parametrize(
    ("make", "message"), [(False, "dataset folder not found"), (True, "no sprint projects")]
)
def test_bad_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: bool, message: str
) -> None:
    target = tmp_path / "data"
    if make:
        target.mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(target)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
