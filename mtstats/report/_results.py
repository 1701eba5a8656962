"""Frozen result objects shared by every report, and their text/HTML summary.

Results are separate from estimators (as statsmodels separates results from
models): a report function computes everything once and returns an immutable
object whose methods only format what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.iolib.table import SimpleTable

from ._render import draw_figures, html_section, render, write_html


def _format_cell(value):
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        magnitude = abs(value)
        if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4f}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


#: Columns holding counts (or degrees of freedom) besides ``n`` and ``n_*``.
COUNT_COLUMNS = frozenset({"df", "hl_df", "nnz", "nnz_rows", "rank", "n"})


def is_count_column(name):
    """Whether column ``name`` holds counts: ``n``, ``n_*``, ``*_df``, ..."""
    name = str(name)
    return name in COUNT_COLUMNS or name.startswith("n_") or name.endswith("_df")


def _format_count(value):
    """A count: an integer without decimals, a mean count with one (``7.8``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        return _format_cell(value)
    if not np.isfinite(value):
        return "" if np.isnan(value) else str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def _cells(frame):
    formats = [_format_count if is_count_column(column) else _format_cell
               for column in frame.columns]
    return [[fmt(v) for fmt, v in zip(formats, row, strict=True)]
            for row in frame.itertuples(index=False)]


def frame_to_table(frame, title=""):
    """A statsmodels ``SimpleTable`` of ``frame`` with compact number formats.

    For text only: ``SimpleTable.as_html`` does not escape its cells.
    """
    return SimpleTable(_cells(frame), headers=[str(c) for c in frame.columns],
                       title=title)


def frame_to_context(frame, caption=""):
    """Caption, headers and formatted cells of ``frame`` for ``summary.html``."""
    return {"caption": str(caption), "headers": [str(c) for c in frame.columns],
            "rows": _cells(frame)}


class Summary:
    """A statsmodels-like summary: titled tables and notes, as text or HTML.

    Parameters
    ----------
    title : str
    tables : list of (str, DataFrame)
        Caption and content of every table.
    notes : list of str
        Method notes printed under the tables.
    """

    def __init__(self, title, tables, notes=()):
        self.title = title
        self.tables = list(tables)
        self.notes = list(notes)

    def as_text(self):
        """Plain-text rendering."""
        parts = [self.title, "=" * len(self.title)]
        for caption, frame in self.tables:
            parts.append(frame_to_table(frame, caption).as_text())
        parts.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(parts)

    def as_html(self):
        """HTML fragment; every title, caption, header, cell and note escaped.

        Returns
        -------
        Markup
            A ``str`` (``markupsafe.Markup``) rendered by ``summary.html``.
        """
        return render("summary.html", title=str(self.title),
                      tables=[frame_to_context(frame, caption)
                              for caption, frame in self.tables],
                      notes=[str(note) for note in self.notes])

    def __str__(self):
        return self.as_text()

    def __repr__(self):
        return self.as_text()

    def _repr_html_(self):
        return self.as_html()


@dataclass(frozen=True, repr=False)
class ReportResult:
    """Base of every result: a tidy table plus metadata, immutable.

    Subclasses set ``title`` and implement ``summary()`` and ``figures()``.
    """

    table: pd.DataFrame
    notes: tuple = field(default_factory=tuple)
    title = "mtstats report"

    def to_frame(self):
        """The tidy table (a copy)."""
        return self.table.copy()

    def summary(self):
        """Text/HTML summary; subclasses choose the columns shown."""
        return Summary(self.title, [("", self.table)], self.notes)

    def figures(self):
        """``[(caption, matplotlib Figure)]`` for the HTML report."""
        return []

    def html_section(self):
        """This result as an HTML fragment with its figures embedded.

        Figures that fail to draw become a note in the section (and a
        ``RuntimeWarning``), never an exception.
        """
        figures, failures = draw_figures(self.figures)
        return html_section(self.summary().as_html(), figures, failures)

    def to_html(self, path):
        """Write one self-contained HTML file (figures embedded as PNG)."""
        write_html(path, self.title, [self.html_section()])
        return path

    def __str__(self):
        return self.summary().as_text()

    def __repr__(self):
        return f"<{type(self).__name__}: {len(self.table)} rows>"

    def _repr_html_(self):
        return self.summary().as_html()
