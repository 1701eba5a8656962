"""Plain-text pieces of the task report that fit a terminal.

Short numbers (:func:`format_number`), one-line labels (:func:`short_label`),
tables that never exceed a width (:func:`text_table`) and wrapped paragraphs
(:func:`wrap`).
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

__all__ = ["format_number", "short_label", "text_table", "wrap"]

WIDTH = 100


def format_number(value, digits=3):
    """``value`` with about ``digits`` significant digits, never in a
    ``1.23e+03`` form above 1e-3; ``""`` for NaN or a non-number.

    Examples
    --------
    >>> [format_number(v) for v in (22.7328, 0.71234, 1234.5, 7.0, -0.00042)]
    ['22.7', '0.712', '1234', '7.00', '-0.00042']
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude < 1e-3:
        return f"{value:.2g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{value:.{decimals}f}"


def format_interval(estimate, low, high, digits=3):
    """``"7.10 [4.31, 9.89]"``; ``""`` when the estimate is missing."""
    text, low, high = (format_number(v, digits) for v in (estimate, low, high))
    if text and low and high:
        text += f" [{low}, {high}]"
    return text


def short_label(value, width=40):
    """``value`` on one line, at most ``width`` characters (an ellipsis ends
    longer text)."""
    text = " ".join(str(value).split())
    if len(text) > width:
        text = text[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def wrap(text, width=WIDTH, indent=""):
    """``text`` wrapped to ``width`` characters (long words are broken)."""
    return textwrap.fill(" ".join(str(text).split()), width=width,
                         initial_indent=indent, subsequent_indent=indent
                         and " " * len(indent), break_on_hyphens=False)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return format_number(value, 4)
    return " ".join(str(value).split())


def text_table(frame, width=WIDTH, label_width=30, title=""):
    """``frame`` as aligned text, every line at most ``width`` characters.

    Cells are shown as they are when strings, numbers with 4 significant
    digits; text columns (left-aligned) are cut to ``label_width``
    characters, then shorter while the table is too wide; columns are dropped
    from the right as a last resort (and named in a last line).

    Parameters
    ----------
    frame : DataFrame
        The table; its columns are the headers.
    width : int, default=100
        Maximum line length.
    label_width : int, default=30
        Maximum length of a text cell or header before shrinking.
    title : str, optional
        A first line (cut to ``width``).

    Returns
    -------
    str
    """
    headers = [short_label(c, label_width) for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    text = [not all(_numeric(r[j]) for r in rows if r[j]) for j in range(len(headers))]
    limit = label_width
    while True:
        cells = [[short_label(c, limit) if c and text[j] else c
                  for j, c in enumerate(row)] for row in rows]
        sizes = [max([len(h), *(len(r[j]) for r in cells)])
                 for j, h in enumerate(headers)]
        if sum(sizes) + 2 * (len(sizes) - 1) <= width or limit <= 8:
            break
        limit -= 2
    dropped = []
    while len(sizes) > 1 and sum(sizes) + 2 * (len(sizes) - 1) > width:
        dropped.insert(0, headers.pop())
        sizes.pop()
        cells = [row[:-1] for row in cells]
    left = text[: len(sizes)]

    def line(values):
        return "  ".join(v.ljust(s) if lft else v.rjust(s)
                         for v, s, lft in zip(values, sizes, left, strict=True)
                         ).rstrip()[:width]

    out = [short_label(title, width)] if title else []
    out += [line(headers), "-" * min(width, sum(sizes) + 2 * (len(sizes) - 1))]
    out += [line(row) for row in cells]
    if dropped:
        out.append(wrap(f"(not shown: {', '.join(dropped)})", width))
    return "\n".join(out)


def _numeric(text):
    head = text.split(" ", 1)[0].replace(",", "")
    try:
        float(head)
    except ValueError:
        return False
    return True
