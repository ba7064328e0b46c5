"""SARA locality briefings: parameterised notebooks rendered by papermill.

``notebooks/briefings/locality_briefing.ipynb`` is the template: a tagged ``parameters``
cell, then thin cells over this package, laid out by SARA (Scanning, Analysis, Response,
Assessment). :func:`prepare` loads one locality's data in the audience organisation's view;
:func:`run_briefings` renders many localities in parallel processes to self-contained HTML,
PDF and an index page; :func:`load_schedule` reads the monthly schedule the hub service runs.
See ``docs/briefings.md``.
"""

from .analysis import before_after, hotspot_map, hour_weekday, near_repeat, repeat_locations, wdq
from .audience import AudienceView, audience_view, org_store_url
from .export import html_from_notebook, pdf_from_html
from .periods import Period, parse_period
from .render import (
    BriefingJob,
    BriefingResult,
    find_template,
    jobs_for,
    render_briefing,
    run_briefings,
    slug,
)
from .responses import Responses, load_responses
from .schedule import Schedule, load_schedule, publish_dir, publish_file
from .sections import ALPHA, Briefing, prepare

__all__ = [
    "ALPHA",
    "AudienceView",
    "Briefing",
    "BriefingJob",
    "BriefingResult",
    "Period",
    "Responses",
    "Schedule",
    "audience_view",
    "before_after",
    "find_template",
    "hotspot_map",
    "hour_weekday",
    "html_from_notebook",
    "jobs_for",
    "load_responses",
    "load_schedule",
    "near_repeat",
    "org_store_url",
    "parse_period",
    "pdf_from_html",
    "prepare",
    "publish_dir",
    "publish_file",
    "render_briefing",
    "repeat_locations",
    "run_briefings",
    "slug",
    "wdq",
]
