"""HTML rendering: one self-contained file, figures inlined as base64 PNG.

Every piece of HTML is produced by the Jinja2 templates in ``templates/``
with autoescaping on, so task labels, column names, baseline names, captions
and notes supplied by the user always end up as text, never as markup. The
only strings trusted as markup are the outputs of those templates
(:func:`render` wraps them in :class:`markupsafe.Markup`), which lets a
rendered summary be placed in a section and a section in a page.
"""

from __future__ import annotations

import base64
import io

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

__all__ = ["figure_png", "html_page", "html_section", "plot_label", "render",
           "write_html"]

_ENVIRONMENT = Environment(loader=PackageLoader("mtstats.report", "templates"),
                           autoescape=True, undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True)


def render(template, **context):
    """Render ``templates/<template>`` with every context value autoescaped.

    Parameters
    ----------
    template : str
        File name in ``mtstats/report/templates``.
    **context
        Template variables. Plain strings are escaped; only
        :class:`~markupsafe.Markup` (the output of this function) is kept as
        markup.

    Returns
    -------
    Markup
        The rendered HTML, safe to embed in another template.
    """
    return Markup(_ENVIRONMENT.get_template(template).render(**context))


def plot_label(value, width=40):
    """``value`` as matplotlib text: one line, at most ``width`` characters.

    Whitespace runs (newlines included) become one space, longer text ends
    with an ellipsis (a 5,000-character label would otherwise make a figure
    tens of thousands of pixels wide) and ``$`` is literal, not mathtext.

    Parameters
    ----------
    value : object
        A task label, feature or baseline name.
    width : int, default=40
        Maximum number of characters.

    Returns
    -------
    str
    """
    text = " ".join(str(value).split())
    if len(text) > width:
        text = text[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text.replace("$", r"\$")


def figure_png(figure):
    """The matplotlib ``figure`` as base64-encoded PNG text; closes it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def html_section(body_html, figures=()):
    """A ``<section>`` holding a rendered summary and its figures.

    Parameters
    ----------
    body_html : Markup or str
        A summary rendered by :func:`render` (kept as markup); a plain
        string is escaped and shows as text.
    figures : sequence of (str, matplotlib Figure)
        Caption and figure; the figure becomes an inline PNG and is closed.

    Returns
    -------
    Markup
    """
    rendered = [{"caption": str(caption), "png": figure_png(figure)}
                for caption, figure in figures]
    return render("section.html", body=body_html, figures=rendered)


def html_page(title, sections):
    """A complete, self-contained HTML page.

    Parameters
    ----------
    title : str
        Page title (escaped).
    sections : sequence of Markup
        Sections made by :func:`html_section`; plain strings are escaped.

    Returns
    -------
    Markup
    """
    return render("page.html", title=title, sections=list(sections))


def write_html(path, title, sections):
    """Write ``sections`` as one self-contained HTML file at ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(str(html_page(title, sections)))
