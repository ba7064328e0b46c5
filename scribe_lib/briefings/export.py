"""Export an executed briefing: a self-contained HTML page (nbconvert) and a PDF (Chromium).

The nbconvert template ``templates/briefing/`` extends JupyterLab's without any script or
stylesheet fetched from the network; code and stderr are hidden and figures embedded, so
the page opens offline. Headless Chromium prints it to A4 with its print CSS.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ConfigError

__all__ = ["html_from_notebook", "pdf_from_html", "HTML_TEMPLATE"]

_ROOT = Path(__file__).resolve().parents[2]
#: the nbconvert template directory (``templates/briefing`` in the source tree).
HTML_TEMPLATE = _ROOT / "templates" / "briefing"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def html_from_notebook(
    notebook: str | os.PathLike,
    html: str | os.PathLike,
    *,
    title: str | None = None,
    banner: dict | None = None,
) -> Path:
    """Export an executed notebook to a self-contained HTML page (code and stderr hidden).

    ``banner`` updates ``metadata.scribe`` of the notebook, read by the template:
    ``partnership``, ``marking`` (protective marking) and ``footer``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor

    class _DropStderr(Preprocessor):
        def preprocess_cell(self, cell, resources, index):
            if cell.get("cell_type") == "code":
                cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
            return cell, resources

    nb = nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    if banner:
        nb.metadata.setdefault("scribe", {}).update({k: v for k, v in banner.items() if v})
    exporter = HTMLExporter(
        extra_template_basedirs=[str(HTML_TEMPLATE.parent)],
        template_name=HTML_TEMPLATE.name,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(_DropStderr(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    out = Path(html)
    out.write_text(body, encoding="utf-8")
    return out


def _chromium() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "headless Chromium not found (apt-get install chromium); or run with --no-pdf"
    )


_FLAGS = (
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
)  # fmt: skip


class _Printer:
    """One headless Chromium per process, driven through Playwright (the system Chromium,
    never a downloaded browser) and reused for every PDF that process prints: a browser
    start per PDF costs more than printing the page. Closed when the process exits."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._pw = self._browser = None
        self.broken = False  # Playwright missing or the browser would not start

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=_chromium(), headless=True, args=["--no-sandbox", *_FLAGS]
            )
        except Exception:
            self._pw.stop()
            self._pw = None
            raise
        self._pid = os.getpid()
        from multiprocessing.util import Finalize

        Finalize(None, self.close, exitpriority=10)  # also run by pool workers at exit

    def print(self, html: Path, pdf: Path, timeout: int) -> None:
        if self._pid != os.getpid() or self._browser is None or not self._browser.is_connected():
            self._pid = self._pw = self._browser = None  # never use a parent's browser
            self._start()
        page = self._browser.new_page(offline=True)
        try:
            page.goto(html.as_uri(), wait_until="load", timeout=timeout * 1000)
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        finally:
            page.close()

    def close(self) -> None:
        if self._pid != os.getpid():
            return
        try:
            if self._browser is not None:
                self._browser.close()
            if self._pw is not None:
                self._pw.stop()
        except Exception:  # noqa: BLE001, S110 - exiting anyway
            pass
        self._pid = self._pw = self._browser = None


_PRINTER = _Printer()

#: Keep the browser between PDFs: true in pool workers (closed when the worker exits) and
#: inside ``shared_browser()``; elsewhere each PDF closes it again, so that no Playwright
#: event loop outlives the call in a caller's process (a second ``sync_playwright`` in the
#: same thread would fail).
_KEEP = False


@contextlib.contextmanager
def shared_browser():
    """Print every PDF inside the block through one Chromium, closed at the end."""
    global _KEEP
    old, _KEEP = _KEEP, True
    try:
        yield
    finally:
        _KEEP = old
        if not old:
            _PRINTER.close()


def keep_browser() -> None:
    """Keep one Chromium for the life of this process (pool workers)."""
    global _KEEP
    _KEEP = True


def pdf_from_html(html: str | os.PathLike, pdf: str | os.PathLike, *, timeout: int = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium, offline (A4, print CSS).

    Uses one long-lived Chromium per process (Playwright); without Playwright, or where it
    cannot run (e.g. inside a running event loop), one ``chromium --print-to-pdf`` per file.
    """
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    if not _PRINTER.broken and os.environ.get("SCRIBE_PDF_BROWSER") != "per-file":
        try:
            _PRINTER.print(html, pdf, timeout)
        except ConfigError:
            raise
        except Exception:  # noqa: BLE001 - fall back to a browser for this file
            _PRINTER.broken = _PRINTER._browser is None
        else:
            if not _KEEP:
                _PRINTER.close()
            if pdf.is_file() and pdf.stat().st_size > 0:
                return pdf
    with tempfile.TemporaryDirectory(prefix="scribe-chromium-") as profile:
        cmd = [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-dev-shm-usage", "--no-pdf-header-footer",
            f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(
            f"Chromium could not print {html.name} (exit {proc.returncode}): {' '.join(tail)}"
        )
    return pdf
