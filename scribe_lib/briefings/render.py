"""Render briefings: papermill executes the template, nbconvert writes a self-contained
HTML (code hidden, images embedded, nothing fetched from the network), headless Chromium
prints the PDF, and an index page lists every locality with its outcome.

Each locality runs in its own worker process (up to the number of cores); a locality that
fails is recorded with its failing cell and error and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..errors import ConfigError
from .export import html_from_notebook, keep_browser, pdf_from_html, shared_browser
from .index import write_index

__all__ = [
    "BriefingJob",
    "BriefingResult",
    "IPCKernelManager",
    "find_template",
    "jobs_for",
    "render_briefing",
    "run_briefings",
    "slug",
]

_ROOT = Path(__file__).resolve().parents[2]
#: the briefing notebook, in the source tree (``--template`` or $SCRIBE_BRIEFING_TEMPLATE
#: name another).
NOTEBOOK = _ROOT / "notebooks" / "briefings" / "locality_briefing.ipynb"
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class IPCKernelManager(AsyncKernelManager):
    """A kernel reached over local sockets (IPC) in the run's private working directory:
    no TCP ports to race for between parallel briefings, nothing on the network."""

    def __init__(self, **kw):
        kw.setdefault("transport", "ipc")
        super().__init__(**kw)

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client interrupts (SIGINT) before every shutdown; an executed briefing
        # is idle, and the shutdown request that follows is enough
        if not self.shutting_down:
            await super()._async_interrupt_kernel()


def slug(name: str) -> str:
    """File-name form of a locality name: ``"Leighton Buzzard"`` -> ``"leighton-buzzard"``."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "locality"


def find_template(path: str | os.PathLike | None = None) -> Path:
    """The briefing notebook to execute (``path``, ``$SCRIBE_BRIEFING_TEMPLATE`` or the built-in)."""
    p = Path(path or os.environ.get("SCRIBE_BRIEFING_TEMPLATE") or NOTEBOOK)
    if not p.is_file():
        raise ConfigError(f"briefing template {str(p)!r} not found; pass --template PATH")
    return p


@dataclass(frozen=True)
class BriefingJob:
    """What to render for one locality (picklable: it crosses to a worker process)."""

    locality: str
    period: str
    out: str
    store: str | None = None
    comparison: str | None = None
    categories: tuple[str, ...] | None = None
    audience: str | None = None
    responses: str | None = None
    template: str | None = None
    pdf: bool = True
    cell_timeout: int = 900
    weight: float = 0.0  # expected size (e.g. the locality's area): the largest start first

    def parameters(self) -> dict:
        """The papermill parameters of the notebook's ``parameters`` cell."""
        return {
            "store": None,  # given as $SCRIBE_STORE, so no secret is written into the notebook
            "locality": self.locality,
            "period": self.period,
            "comparison": self.comparison,
            "categories": list(self.categories) if self.categories else None,
            "audience": self.audience,
            "responses": self.responses,
        }


@dataclass
class BriefingResult:
    """Outcome of one locality: files written, or the stage, cell and error that failed."""

    locality: str
    ok: bool
    seconds: float
    html: str | None = None
    pdf: str | None = None
    notebook: str | None = None
    stage: str | None = None  # execute | html | pdf | worker
    cell: int | None = None  # index of the failing cell in the notebook
    cell_source: str | None = None  # its first line
    error: str | None = None  # "ErrorName: message"
    timings: dict = field(default_factory=dict)  # seconds: execute, html, pdf; cpu (all processes)

    def to_dict(self) -> dict:
        return asdict(self)


def _title(job: BriefingJob) -> str:
    from .periods import parse_period

    return f"{job.locality}: locality briefing, {parse_period(job.period).label()}"


def _banner(job: BriefingJob) -> dict:
    """Partnership name from the agreement; a footer saying when and for whom."""
    from .audience import agreement_path

    try:
        from ..access import load_agreement

        partnership = load_agreement(agreement_path()).partnership
    except Exception:  # noqa: BLE001 - no agreement: keep the template's name
        partnership = None
    who = job.audience or "the partnership's analysts"
    when = dt.datetime.now().strftime("%d %B %Y %H:%M")
    return {"partnership": partnership, "footer": f"Prepared {when} by SCRIBE for {who}"}


def render_briefing(job: BriefingJob) -> BriefingResult:
    """Execute, export and print one locality's briefing; never raises for a bad locality.

    Writes ``<out>/<slug>.html``, ``<out>/<slug>.pdf`` and the executed notebook
    ``<out>/notebooks/<slug>.ipynb`` (kept for a failed run: it shows the error in place).
    """
    res = _render_html(job)
    return _render_pdf(job, res) if res.ok and job.pdf else res


def _render_html(job: BriefingJob) -> BriefingResult:
    """Execute the notebook and export its HTML (``ok`` once the HTML is written)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t0, c0 = time.perf_counter(), _cpu()
    out = Path(job.out)
    name = slug(job.locality)
    nb_path = out / "notebooks" / f"{name}.ipynb"
    nb_path.parent.mkdir(parents=True, exist_ok=True)
    res = BriefingResult(job.locality, ok=False, seconds=0.0, notebook=str(nb_path))
    stage = "execute"
    saved = os.environ.get("SCRIBE_STORE")
    if job.store:
        os.environ["SCRIBE_STORE"] = job.store  # the kernel inherits it
    try:
        with tempfile.TemporaryDirectory(prefix="scribe-briefing-") as cwd:
            pm.execute_notebook(
                str(find_template(job.template)),
                str(nb_path),
                parameters=job.parameters(),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                cwd=cwd,
                execution_timeout=job.cell_timeout,
                kernel_manager_class="scribe_lib.briefings.render.IPCKernelManager",
            )
        res.timings["execute"] = round(time.perf_counter() - t0, 2)
        stage = "html"
        html = html_from_notebook(
            nb_path, out / f"{name}.html", title=_title(job), banner=_banner(job)
        )
        res.html = str(html)
        res.timings["html"] = round(time.perf_counter() - t0 - res.timings["execute"], 2)
        res.ok = True
    except PapermillExecutionError as exc:
        res.stage, res.cell = stage, exc.cell_index
        res.cell_source = (exc.source or "").strip().splitlines()[0][:200] if exc.source else None
        res.error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - one locality must not stop the others
        res.stage, res.error = stage, f"{type(exc).__name__}: {exc}"
    finally:
        if saved is None:
            os.environ.pop("SCRIBE_STORE", None)
        else:
            os.environ["SCRIBE_STORE"] = saved
    res.seconds = round(time.perf_counter() - t0, 2)
    res.timings["cpu"] = round(_cpu() - c0, 2)
    return res


def _render_pdf(job: BriefingJob, res: BriefingResult) -> BriefingResult:
    """Print the HTML of ``res`` (from :func:`_render_html`) to ``<out>/<slug>.pdf``.

    A separate step so that a parallel run can queue the PDFs behind the notebooks and
    keep every worker busy to the end; seconds and CPU add to the execute step's."""
    t0, c0 = time.perf_counter(), _cpu()
    res = replace(res, timings=dict(res.timings))
    try:
        res.pdf = str(pdf_from_html(res.html, Path(job.out) / f"{slug(job.locality)}.pdf"))
        res.timings["pdf"] = round(time.perf_counter() - t0, 2)
    except Exception as exc:  # noqa: BLE001 - one locality must not stop the others
        res.ok, res.stage, res.error = False, "pdf", f"{type(exc).__name__}: {exc}"
    res.seconds = round(res.seconds + time.perf_counter() - t0, 2)
    res.timings["cpu"] = round(res.timings.get("cpu", 0.0) + _cpu() - c0, 2)
    return res


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the kernel, Chromium)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _worker_init() -> None:
    # One process per core: keep each kernel's numerical libraries to one thread.
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    # nbformat -> jsonschema imports rfc3987_syntax if installed, which builds a grammar
    # for 0.7 s of CPU at import to check "iri" formats that no notebook schema uses: in a
    # worker that is start-up time of the parallel run alone (jsonschema skips the check
    # when the import fails).
    sys.modules.setdefault("rfc3987_syntax", None)
    keep_browser()  # one Chromium per worker, for every PDF it prints


def run_briefings(
    jobs: Sequence[BriefingJob],
    *,
    workers: int | None = None,
    progress: Callable[[BriefingResult, int, int], None] | None = None,
    index: bool = True,
    meta: dict | None = None,
) -> list[BriefingResult]:
    """Render every job, ``workers`` at a time in separate processes, then write the index.

    Parameters
    ----------
    jobs : sequence of BriefingJob
        One per locality; all with the same ``out`` directory.
    workers : int, optional
        Processes to use; default the number of cores (``os.cpu_count()``). ``1`` renders
        serially in this process.
    progress : callable, optional
        Called as ``progress(result, done, total)`` when each locality finishes.
    index : bool
        Write ``index.html`` and ``index.json`` into the output directory.
    meta : dict, optional
        Period, audience and data-view notes shown at the top of the index.

    Returns
    -------
    list of BriefingResult
        In the order of ``jobs``. Check ``ok`` on each: failures do not raise.
    """
    if not jobs:
        raise ConfigError("no localities to brief; pass --locality NAME or --all")
    outs = {j.out for j in jobs}
    if len(outs) != 1:
        raise ConfigError(f"all briefings of one run go to one directory, got {sorted(outs)}")
    out = Path(outs.pop())
    out.mkdir(parents=True, exist_ok=True)
    total = len(jobs)
    workers = max(1, min(workers or os.cpu_count() or 1, total))
    t0 = time.perf_counter()
    results: dict[int, BriefingResult] = {}
    if workers == 1:
        with shared_browser():  # one Chromium for the run, closed at its end
            for i, job in enumerate(jobs):
                results[i] = render_briefing(job)
                if progress:
                    progress(results[i], len(results), total)
    else:
        # forkserver: workers fork from a clean server that imported this module once
        # (never from this process, which may hold kernel sockets); spawn elsewhere
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload([__name__])
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
            # Largest first, so that a big locality does not run alone at the end; each
            # PDF is queued when its HTML is written, behind the notebooks still to run,
            # so the short PDF steps fill the end of the run on every worker.
            order = sorted(range(total), key=lambda i: -jobs[i].weight)
            pending = {pool.submit(_render_html, jobs[i]): (i, "html") for i in order}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i, step = pending.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a dead worker fails its locality only
                        res = BriefingResult(
                            jobs[i].locality,
                            False,
                            0.0,
                            stage="worker",
                            error=f"{type(exc).__name__}: {exc}",
                        )
                    if step == "html" and res.ok and jobs[i].pdf:
                        pending[pool.submit(_render_pdf, jobs[i], res)] = (i, "pdf")
                        continue
                    results[i] = res
                    if progress:
                        progress(results[i], len(results), total)
    ordered = [results[i] for i in range(total)]
    if index:
        info = dict(meta or {})
        info.setdefault("period", jobs[0].period)
        info.setdefault("audience", jobs[0].audience)
        info["workers"] = workers
        info["wall_seconds"] = round(time.perf_counter() - t0, 2)
        info["generated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        write_index(ordered, out, info)
    return ordered


def jobs_for(localities: Sequence[str], **common) -> list[BriefingJob]:
    """One :class:`BriefingJob` per locality with the same settings."""
    base = BriefingJob(locality="", **common)
    return [replace(base, locality=name) for name in localities]
