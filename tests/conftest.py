"""Shared test configuration.

A skipped test is a failure here, as in CI: install what the test needs instead.
"""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; a skipped test is a failure in SCRIBE",
            red=True,
        )
        session.exitstatus = 1
