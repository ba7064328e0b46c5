"""Helpers for the apps' browser tests and benchmark: a plain Voila process and Chromium.

Used by ``tests/test_browser*.py`` and ``benchmarks/bench_apps.py``. Never downloads a
browser: Playwright drives Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

from ..hub.testing import free_ports
from .serving import TEMPLATES, server_env

__all__ = [
    "VoilaServer",
    "chromium",
    "ExternalRequests",
    "find_colour",
    "APPS_DIR",
    "REPO",
    "TEMPLATES",
]

REPO = Path(__file__).resolve().parents[2]
APPS_DIR = REPO / "notebooks" / "apps"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


class VoilaServer:
    """``voila notebooks/apps`` on a free port, reading ``store`` as ``SCRIBE_STORE``."""

    def __init__(self, store: str, log: Path, extra_args: tuple[str, ...] = (), env=None,
                 apps_dir: Path = APPS_DIR):  # fmt: skip
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = dict(os.environ, SCRIBE_STORE=str(store))
        self.env.pop("SCRIBE_TILE_URL", None)  # offline: no basemap unless a test asks
        self.env.update(env or {})
        server_env(self.env)  # SCRIBE's Voila template and configuration, as in the hub
        self.args = [str(Path(sys.executable).parent / "voila"), str(apps_dir), "--no-browser",
                     f"--port={self.port}", "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
                     "--template=scribe",
                     *extra_args]  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> VoilaServer:
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=fh, stderr=fh,
                                         start_new_session=True, cwd=str(REPO))  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(self.url, timeout=2).status_code == 200:
                    return self
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"voila did not answer:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def app_url(self, name: str) -> str:
        """URL of ``notebooks/apps/NAME.ipynb``."""
        return f"{self.url}/voila/render/{name}.ipynb"

    def kernel_pids(self) -> list[int]:
        """PIDs of the kernels this Voila started (its child processes)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


@contextlib.contextmanager
def chromium(headless: bool = True):
    """A Playwright Chromium browser (Debian's), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=headless)  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


class ExternalRequests(list):
    """Every request a page makes to a host other than localhost (attach with ``watch``)."""

    LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}

    def watch(self, page) -> None:
        """Record ``page``'s requests that leave the machine."""

        def seen(request):
            url = request.url
            if url.startswith(("data:", "blob:", "about:")):
                return
            if urlparse(url).hostname not in self.LOCAL:
                self.append(url)

        page.on("request", seen)


FIND_COLOUR_JS = """([r, g, b]) => {
  const out = [];
  for (const c of document.querySelectorAll('.leaflet-overlay-pane canvas, .leaflet-pane canvas')) {
    const box = c.getBoundingClientRect();
    const ctx = c.getContext('2d');
    const img = ctx.getImageData(0, 0, c.width, c.height).data;
    const sx = box.width / c.width, sy = box.height / c.height;
    for (let y = 2; y < c.height - 2; y += 1) for (let x = 2; x < c.width - 2; x += 1) {
      const i = (y * c.width + x) * 4;
      if (img[i] === r && img[i + 1] === g && img[i + 2] === b && img[i + 3] === 255) {
        const j = ((y + 2) * c.width + x) * 4, k = ((y - 2) * c.width + x) * 4;
        if (img[j] === r && img[j + 1] === g && img[k] === r && img[k + 1] === g) {
          const px = box.left + x * sx, py = box.top + y * sy;
          const map = c.closest('.leaflet-container').getBoundingClientRect();
          if (px > map.left + 60 && px < map.right - 20 && py > map.top + 90 && py < map.bottom - 20
              && document.elementFromPoint(px, py) === c)
            out.push([px, py]);
        }
      }
    }
  }
  return out.slice(0, 200);
}"""


def find_colour(page, hex_colour: str) -> list[tuple[float, float]]:
    """Page coordinates of canvas pixels of exactly ``hex_colour`` (away from the controls)."""
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return [tuple(p) for p in page.evaluate(FIND_COLOUR_JS, rgb)]


def wait_colour(page, hex_colour: str, timeout: float = 60_000) -> list[tuple[float, float]]:
    """Wait until the map canvas shows ``hex_colour`` (Leaflet redraws after its zoom
    animation); return where, or [] if it never does."""
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    try:
        page.wait_for_function(f"rgb => ({FIND_COLOUR_JS})(rgb).length > 0", arg=rgb,
                               timeout=timeout)  # fmt: skip
    except Exception:  # noqa: BLE001 - the caller asserts on the empty answer
        return []
    return find_colour(page, hex_colour)
