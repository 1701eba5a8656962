"""HTML rendering: one self-contained file, figures inlined as base64 PNG."""

from __future__ import annotations

import base64
import html
import io

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em;
       color: #222; }
table.simpletable { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
table.simpletable td, table.simpletable th { border-bottom: 1px solid #ddd;
       padding: 0.2em 0.6em; text-align: right; }
table.simpletable caption { font-weight: bold; text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; }
img { max-width: 100%; }
"""


def figure_to_html(figure, caption=""):
    """A ``<figure>`` with the matplotlib figure as an inline PNG; closes it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"/>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def html_section(body_html, figures=()):
    """A ``<section>`` holding a summary and its figures."""
    rendered = "".join(figure_to_html(fig, cap) for cap, fig in figures)
    return f"<section>{body_html}{rendered}</section>"


def html_page(title, sections):
    """A complete HTML page."""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
            f"</head><body><h1>{html.escape(title)}</h1>"
            + "\n".join(sections) + "</body></html>")


def write_html(path, title, sections):
    """Write ``sections`` as one self-contained HTML file at ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(html_page(title, sections))
