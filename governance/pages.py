"""Pages for people (the steward and lineage reports), from the Jinja2 templates in ``templates/``.

One base layout holds the page frame and the CSS. Autoescaping is on, so a dataset name, a reason or
a tag that contains markup shows as text; only what the code draws itself (the lineage SVG, whose
labels matplotlib escapes) is marked ``| safe`` in its template.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

_PAGES = Environment(
    loader=PackageLoader("governance", "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt variable fails the render, never prints blank
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_page(template: str, **context: object) -> str:
    return _PAGES.get_template(template).render(context)
