"""The pages' HTML: Jinja2 templates under templates/dashboard, CSS and the table-sorting
script under static/ (served from this repository: the pages load nothing from elsewhere)."""

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.services.dashboard import CELL_STATES, MILESTONE_STATES

STATIC = Path(__file__).parent / "static"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "dashboard"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def url(path: str, **query: object) -> str:
    """A link with its query string; parameters that are None are left out."""
    given = {k: v for k, v in query.items() if v is not None}
    return f"{path}?{urlencode(given)}" if given else path


_templates.globals.update(url=url, CELL_STATES=CELL_STATES, MILESTONE_STATES=MILESTONE_STATES)


def page(name: str, **context: Any) -> str:
    return _templates.get_template(name).render(**context)
