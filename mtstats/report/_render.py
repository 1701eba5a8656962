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
import warnings

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

__all__ = ["draw_figures", "error_text", "figure_png", "html_page", "html_section",
           "plot_label", "render", "write_html"]

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
    try:
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def error_text(error):
    """``"ExceptionType: message"``, the way a failed part is named in a report."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _warn(message):
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def draw_figures(make_figures):
    """Call ``make_figures()``; a failure becomes a note, not an exception.

    Parameters
    ----------
    make_figures : callable
        Returns a sequence of ``(caption, matplotlib Figure)``, e.g. a
        result's ``figures`` method.

    Returns
    -------
    figures : list of (str, Figure)
        Empty when drawing failed.
    failures : list of str
        ``["The figures could not be drawn: <ExceptionType: message>"]`` on
        failure (a ``RuntimeWarning`` is issued too), else empty.
    """
    try:
        return list(make_figures()), []
    except Exception as error:  # noqa: BLE001 - a figure never sinks a report
        import sys

        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        note = f"The figures could not be drawn: {error_text(error)}"
        _warn(note)
        return [], [note]


def html_section(body_html, figures=(), failures=(), parts=()):
    """A ``<section>`` holding a rendered summary and its figures.

    Parameters
    ----------
    body_html : Markup or str
        A summary rendered by :func:`render` (kept as markup); a plain
        string is escaped and shows as text.
    figures : sequence of (str, matplotlib Figure)
        Caption and figure; the figure becomes an inline PNG and is closed.
        A figure that cannot be saved becomes a note (and a warning).
    failures : sequence of str
        Notes on what could not be computed or drawn (escaped), shown in a
        highlighted box.
    parts : sequence of Markup
        Further rendered parts placed after ``body_html`` (e.g. a nested
        ``<details>`` toggle).

    Returns
    -------
    Markup
    """
    rendered, failures = [], list(failures)
    for caption, figure in figures:
        try:
            rendered.append({"caption": str(caption), "png": figure_png(figure)})
        except Exception as error:  # noqa: BLE001
            note = f"A figure could not be drawn: {error_text(error)}"
            _warn(note)
            failures.append(note)
    return render("section.html", body=body_html, figures=rendered,
                  failures=[str(f) for f in failures], parts=list(parts))


def html_page(title, sections, subtitle=""):
    """A complete, self-contained HTML page.

    Parameters
    ----------
    title : str
        Page title (escaped), the page's only ``<h1>``.
    sections : sequence of Markup
        Sections made by :func:`html_section`; plain strings are escaped.
    subtitle : str, optional
        One line under the title (escaped).

    Returns
    -------
    Markup
    """
    return render("page.html", title=title, subtitle=str(subtitle),
                  sections=list(sections))


def write_html(path, title, sections, subtitle=""):
    """Write ``sections`` as one self-contained HTML file at ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(str(html_page(title, sections, subtitle)))
