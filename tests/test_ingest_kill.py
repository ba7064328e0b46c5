"""A kill or Ctrl-C in the middle of a big file leaves no partial submission (both backends).

A real ``scribe_lib.ingest`` of a police.uk file runs in a subprocess that reports each chunk
it has written; after two chunks we kill it (SIGKILL) or interrupt it (SIGINT), then check
that the store has nothing from that file, and that the same file then ingests in full.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import scribe_lib

ROOT = Path(__file__).resolve().parents[1]
ROWS, CHUNK = 40_000, 4_000

CHILD = textwrap.dedent(
    """
    import sys, time
    import scribe_lib
    store = scribe_lib.open_store(sys.argv[1])
    write = store.write_incidents
    def reporting_write(df):
        write(df)
        print("chunk", flush=True)
        time.sleep(0.3)
    store.write_incidents = reporting_write
    scribe_lib.ingest(sys.argv[2], "police-uk", partner="beds", store=store, chunksize=int(sys.argv[3]))
    print("done", flush=True)
    """
)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks/bench_ingest.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path_factory.mktemp("big") / "2024-01-bedfordshire-street.csv"
    return bench.write_police_uk(str(path), ROWS, seed=7, month="2024-01")


def _interrupt(url: str, path: str, sig: int) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, path, str(CHUNK)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    for line in proc.stdout:
        if line.strip() == "chunk":
            seen += 1
            if seen == 2:
                proc.send_signal(sig)
                break
    out, err = proc.communicate(timeout=120)
    assert seen == 2, err
    assert "done" not in out
    return proc


def _counts(url):
    with scribe_lib.open_store(url) as st:
        return (
            len(st.submissions()),
            st.execute(f"SELECT count(*) FROM {st.table('incidents')}")[0][0],
            st.execute(f"SELECT count(*) FROM {st.table('quarantine')}")[0][0],
        )


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_an_interrupted_ingest_leaves_nothing(store_url, big_file, sig):
    with scribe_lib.open_store(store_url) as st:
        st.init()
    proc = _interrupt(store_url, big_file, sig)
    assert proc.returncode == -sig or (sig == signal.SIGINT and proc.returncode != 0)
    assert _counts(store_url) == (0, 0, 0)
    result = scribe_lib.ingest(big_file, "police-uk", partner="beds", store=store_url)
    assert result.added and result.rows_read == ROWS
    assert result.accepted + result.quarantined == ROWS
    assert _counts(store_url) == (1, result.accepted, result.quarantined)
