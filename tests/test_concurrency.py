"""Concurrent use and crashes lose nothing: the review store's lock, atomic writes that survive SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from cli_runner import CODER
from review_fixtures import make_suggestions

from coder.returns import read_table
from coder.review.store import ReviewStore

ROOT = Path(__file__).resolve().parent.parent
ENV = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

# One "pull": many small adds of records only this writer has, each a read-modify-write of the whole file.
ADDER = """
import sys
from coder.review.store import ReviewStore
store, who, n, size = ReviewStore(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    store.add([{"record_id": f"{who}|{i}|{j}", "annotation": f"{who}|{i}|{j}", "codes": "A",
                "text": "x" * size} for j in range(2)])
print("done")
"""


def adder(store: Path, who: str, n: int, size: int = 10) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", ADDER, str(store), who, str(n), str(size)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_pulls_at_once_lose_nothing(tmp_path):
    store = tmp_path / "annotations"
    procs = [adder(store, who, 60) for who in ("first", "second")]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "done", err
    ids = [r["record_id"] for r in ReviewStore(store).records()]
    assert len(ids) == len(set(ids)) == 2 * 60 * 2


def _kill_when_writing(proc: subprocess.Popen, folder: Path, pattern: str, limit: float = 120) -> bool:
    """SIGKILL `proc` the moment a temporary file of an atomic write appears; True if it was caught writing."""
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < limit:
        if any(folder.glob(pattern)):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
    proc.kill()
    proc.wait()
    return False


def test_a_store_write_killed_midway_leaves_the_previous_file_whole_and_a_rerun_completes(tmp_path):
    store_dir = tmp_path / "annotations"
    store = ReviewStore(store_dir)
    store.add([{"record_id": f"old|{i}", "codes": "A", "text": "y" * 20_000} for i in range(300)])  # ~6 MB
    before = store.reviews_path.read_bytes()
    caught = 0
    for _ in range(3):
        proc = adder(store_dir, "killed", 5, size=20_000)
        caught += _kill_when_writing(proc, store_dir, ".reviews.jsonl.*.tmp")
        after = ReviewStore(store_dir).records()  # every line parses: the file is one whole version
        assert [r["record_id"] for r in after][:300] == [f"old|{i}" for i in range(300)]
        assert len(after) % 2 == 0  # records of one add land together or not at all
    assert caught, "the writer was never caught mid-write"
    assert store.reviews_path.read_bytes()[: len(before) - 1] == before[:-1]
    p = adder(store_dir, "rerun", 5, size=20_000)
    assert p.wait(timeout=300) == 0
    ids = {r["record_id"] for r in ReviewStore(store_dir).records()}
    assert {f"rerun|{i}|{j}" for i in range(5) for j in range(2)} <= ids and len(ids) >= 310


def test_accept_killed_mid_write_keeps_the_previous_table_and_a_rerun_completes(tmp_path, codebook,
                                                                               returns_path):
    suggestions = tmp_path / "suggestions.csv"
    make_suggestions(returns_path, codebook, suggestions, localities=60)
    out = tmp_path / "accepted.csv"
    pd.DataFrame({"round": ["old"], "text": ["the previous accepted table"]}).to_csv(out, index=False)
    previous = out.read_bytes()
    cmd = [CODER, "accept", "--suggestions", str(suggestions),
           "--store", str(tmp_path / "annotations"), "--out", str(out)]
    caught = False
    for _ in range(3):
        proc = subprocess.Popen(cmd, env=ENV, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        caught = _kill_when_writing(proc, tmp_path, ".accepted.csv.*.tmp")
        assert out.read_bytes() == previous  # killed before its rename: the old table, whole
        if caught:
            break
    assert caught, "coder accept was never caught mid-write"
    r = subprocess.run(cmd, env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    table = read_table(out)
    assert len(table) == len(read_table(suggestions)) and set(table["source"]) <= {"auto", "rule", "pending"}


def _report_folder(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _as_in_a_terminal() -> None:
    """Ctrl-C reaches the command as in a terminal (a test runner started in the background ignores SIGINT,
    and its children would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_report_interrupted_or_killed_midway_leaves_the_previous_report_whole(tmp_path, returns_path):
    """`coder report` builds its folder beside the old one and swaps it in whole: Ctrl-C (SIGINT) or a kill
    while it writes leaves the previous report exactly as it was, and a re-run completes."""
    out = tmp_path / "reports"
    cmd = [CODER, "report", "--data", str(returns_path), "--out", str(out), "--round", "2013-06"]
    first = subprocess.run(cmd, env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    previous = _report_folder(out)
    assert "index.html" in previous and "appendix3b.csv" in previous

    for sig in (signal.SIGINT, signal.SIGKILL):
        caught = False
        for _ in range(3):
            proc = subprocess.Popen(cmd, env=ENV, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, preexec_fn=_as_in_a_terminal)
            t0 = time.monotonic()
            while proc.poll() is None and time.monotonic() - t0 < 300:
                if any(tmp_path.glob(".reports.*.staging/*")):  # the new report is being written
                    proc.send_signal(sig)
                    caught = True
                    break
            err = proc.communicate(timeout=300)[1]
            assert _report_folder(out) == previous, f"after {sig.name} the previous report is whole"
            if caught:
                assert proc.returncode != 0
                if sig == signal.SIGINT:
                    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
                    assert not list(tmp_path.glob(".reports.*")), "Ctrl-C leaves no staging folder"
                break
        assert caught, f"coder report was never caught writing ({sig.name})"

    rerun = subprocess.run(cmd, env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert set(_report_folder(out)) == set(previous) and not list(tmp_path.glob(".reports.*"))
