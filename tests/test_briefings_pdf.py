"""Printing a briefing's PDF leaves no Playwright behind in the caller's process.

The printer keeps one Chromium per pool worker; in any other process a PDF (or a serial
run) must close it again, or the next ``sync_playwright()`` in that thread fails with
"using Playwright Sync API inside the asyncio loop" (seen in the browser tests that run
after the briefing tests in one pytest process).
"""

from __future__ import annotations

import subprocess

from playwright.sync_api import sync_playwright

from scribe_lib.briefings import export


def _page(tmp_path, name="Stotfold"):
    html = tmp_path / "b.html"
    html.write_text(f"<html><body><h1>{name}</h1><p>SARA briefing</p></body></html>")
    return html


def test_a_pdf_then_playwright_in_the_same_process(tmp_path):
    pdf = export.pdf_from_html(_page(tmp_path), tmp_path / "b.pdf")
    assert pdf.stat().st_size > 0
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Stotfold" in text
    with sync_playwright() as pw:  # would raise if the printer left its loop running
        assert pw.chromium is not None


def test_shared_browser_prints_several_and_closes_at_the_end(tmp_path):
    with export.shared_browser():
        for i in range(2):
            export.pdf_from_html(_page(tmp_path, f"Place {i}"), tmp_path / f"{i}.pdf")
            assert export._PRINTER._browser is not None  # kept between PDFs
    assert export._PRINTER._browser is None
    with sync_playwright() as pw:
        assert pw.chromium is not None
