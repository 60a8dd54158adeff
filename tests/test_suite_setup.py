"""What tests/conftest.py sets up for the run at import, checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
import conftest
print(json.dumps({"gettempdir": tempfile.gettempdir(), "TMPDIR": os.environ.get("TMPDIR")}))
"""


@pytest.mark.parametrize("variable", ["TEMP", "TMP"])
def test_a_temporary_folder_the_user_chose_with_temp_or_tmp_stands(tmp_path: Path, variable: str) -> None:
    """Python's tempfile honours ``$TMPDIR``, then ``$TEMP``, then ``$TMP``: a user who chose the run's
    temporary folder with either of the latter keeps it (the memory folder is not put in front of it)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "TEMP", "TMP", "PYTEST_XDIST_WORKER")}
    env[variable] = str(mine)
    env["FOOTAGE_SANDBOX_PREVIEW_CACHE"] = str(tmp_path / "previews")  # no per-run folder made by the probe
    tests = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, tests], env=env, capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out.splitlines()[-1])
    assert seen == {"gettempdir": str(mine), "TMPDIR": None}
