"""The parts of a task report, in reading order, as HTML and as text.

Summary (the :class:`~mtstats.report._overview.Overview`), a table of
contents, then one collapsible section per part (comparison, coefficients,
calibration, model and data), each with a plain-language note, its tables and
figures; the method notes and references last. A part that could not be
computed, or whose figures could not be drawn, shows a note instead. Every
string reaches the page through the autoescaping templates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from ._comparison_result import POOLED_SHOWN
from ._render import draw_figures, error_text, html_section, render
from ._results import frame_to_context
from ._text import WIDTH, format_interval, format_number, short_label, text_table, wrap
from ._wording import HEADINGS, PLAIN, REFERENCES, metric_label

__all__ = ["REFERENCES", "Section", "overview_rows", "page_sections", "report_text",
           "sections"]

@dataclass
class Section:
    """One collapsible part of the report, before rendering.

    ``tables`` are (caption, DataFrame); ``more`` an optional (label, tables)
    behind a nested toggle; ``figures`` a callable returning (caption,
    Figure); ``failure`` the error text of a part that could not be computed.
    """

    anchor: str
    status: str = ""
    plain: str = ""
    tables: list = field(default_factory=list)
    more: tuple | None = None
    figures: object = None
    failure: str | None = None
    notes: list = field(default_factory=list)
    open: bool = False

    @property
    def heading(self):
        return HEADINGS[self.anchor]


def _failed(anchor, error):
    return Section(anchor, "could not be computed", failure=error)


def _comparison(report):
    ov = report.overview
    counts = ov.counts()
    status = (f"{counts.get('helped', 0)} helped, {counts.get('hurt', 0)} hurt, "
              f"{counts.get('no detectable difference', 0)} no detectable "
              f"difference vs {short_label(ov.baseline, 30)}")
    pooled = report.comparison.pooled
    pooled = pooled[[c for c in POOLED_SHOWN if c in pooled]]
    tables = [*report.comparison.task_tables(),
              ("Across tasks: the tasks' gains pooled (random effects) and "
               "tested (Wilcoxon, sign)", pooled)]
    return Section("comparison", status, PLAIN["comparison"], tables,
                   figures=report.comparison.figures)


def _coefficients(report):
    part = report.coefficients
    tables, status = part.highlights()
    more = (f"Show all {int((part.table['task'] != '__all__').sum())} "
            "coefficients, task by task", part.summary().tables)
    return Section("coefficients", status, PLAIN["coefficients"], tables, more,
                   part.figures)


def _calibration(report):
    part, frame = report.calibration, report.overview.frame
    flagged = int((frame["calibration"] == "check").sum())
    rated = int(frame["calibration"].isin(["ok", "check"]).sum())
    return Section("calibration", f"{flagged} of {rated} tasks flagged",
                   PLAIN.get(part.kind, ""), part.summary().tables,
                   figures=part.figures)


def _model(report):
    model, status = report.model, ""
    if len(model) and "estimator" in model:
        converged = model["converged"].iloc[0] if "converged" in model else None
        status = str(model["estimator"].iloc[0]) + (
            "" if converged is None else ", converged" if converged
            else ", NOT converged")
    return Section("model", status, PLAIN["model"],
                   [("Model", model), ("Tasks", report.tasks)],
                   notes=list(report.notes))


_BUILDERS = {"comparison": _comparison, "coefficients": _coefficients,
             "calibration": _calibration, "model": _model}


def sections(report):
    """The report's detailed sections (comparison to model), in order.

    A part that was not computed, or whose section cannot be built, becomes
    a section holding only the note of its failure (with a warning).
    """
    out = []
    for anchor, build in _BUILDERS.items():
        if anchor != "model" and getattr(report, anchor) is None:
            out.append(_failed(anchor, report.errors.get(anchor, "not computed")))
            continue
        try:
            out.append(build(report))
        except Exception as error:  # noqa: BLE001 - a section never sinks a report
            warnings.warn(f"The {anchor} section could not be built: "
                          f"{error_text(error)}", RuntimeWarning, stacklevel=2)
            out.append(_failed(anchor, error_text(error)))
    return out


def overview_rows(ov, gain_digits=3):
    """Display rows of the overview: per task a dict of formatted cells."""
    rows = []
    for r in ov.frame.to_dict("records"):
        scores = [format_number(r[f"{m}_{s}"]) for m in ov.metrics
                  for s in ("mtl", "baseline")]
        fw = r["significant_fw"]
        flag = r["calibration"]
        verdict = r["verdict"]
        rows.append({
            "task": short_label(r["task"], 60), "task_full": str(r["task"]),
            "n": "" if r["n"] is None or r["n"] != r["n"] else str(int(r["n"])),
            "scores": scores,
            "gain": format_interval(r["gain"], r["gain_low"], r["gain_high"],
                                    gain_digits),
            "verdict": verdict,
            "verdict_class": {"hurt": "hurt", "helped": "helped"}.get(verdict,
                                                                      "none"),
            "fw": "" if fw is None else "yes" if fw else "no",
            "flag": flag + (f": {r['calibration_reason']}"
                            if r["calibration_reason"] else ""),
            "flag_class": flag if flag in ("ok", "check") else "na"})
    return rows


def overview_html(ov):
    """The summary block (table, legend, sentences) as Markup."""
    name, _ = ov.adjust_label
    return render(
        "overview.html", caption=ov.caption(),
        metrics=[metric_label(m) for m in ov.metrics],
        baseline=short_label(ov.baseline, 24),
        gain_header=(f"Gain in {metric_label(ov.primary)} ({ov.interval_label})"
                     if ov.primary else "Gain"),
        fw_header=name if ov.empirical_bayes else "", rows=overview_rows(ov),
        legend=ov.legend(), sentences=list(ov.sentences))


def _tables_html(tables):
    return render("summary.html", title="", notes=[],
                  tables=[frame_to_context(frame, caption)
                          for caption, frame in tables])


def render_section(section, figures=True):
    """One :class:`Section` as a ``<details>`` element (Markup)."""
    failures = ([f"This section could not be computed: {section.failure}"]
                if section.failure is not None else [])
    drawn = []
    if figures and section.figures is not None:
        drawn, failed = draw_figures(section.figures)
        failures += failed
    parts = []
    if section.more is not None:
        label, tables = section.more
        parts.append(render("more.html", label=label, body=_tables_html(tables)))
    if section.notes:
        parts.append(render("summary.html", title="", tables=[],
                            notes=[str(n) for n in section.notes]))
    body = html_section(_tables_html(section.tables), drawn, failures, parts)
    return render("details.html", anchor=section.anchor, heading=section.heading,
                  status=section.status, plain=section.plain, parts=[body],
                  open=section.open)


def method_groups(report):
    """``[{"heading", "notes"}]``: the overview's rules, then each part's notes."""
    ov = report.overview
    rules = [*ov.legend()]
    if ov.primary is not None:
        rules.insert(0, "Strongest baseline: the one with the smallest "
                        "random-effects pooled gain on the primary metric "
                        f"({ov.primary}) across tasks; here {ov.baseline}.")
    groups = [{"heading": "Summary table", "notes": rules}]
    for anchor in ("comparison", "coefficients", "calibration"):
        part = getattr(report, anchor)
        if part is not None and part.notes:
            groups.append({"heading": HEADINGS[anchor],
                           "notes": [str(n) for n in part.notes]})
    return groups


def page_sections(report, figures=True):
    """Summary, contents, the detailed sections and the methods, as Markup."""
    details = sections(report)
    summary = render("details.html", anchor="summary", heading=HEADINGS["summary"],
                     status="", plain="", parts=[overview_html(report.overview)],
                     open=True)
    methods = render("details.html", anchor="methods", heading=HEADINGS["methods"],
                     status="", plain="How every number was computed, with the "
                     "assumptions and caveats, and the references.",
                     parts=[render("methods.html", groups=method_groups(report),
                                   references=list(REFERENCES))], open=False)
    entries = [{"anchor": s.anchor, "heading": s.heading, "status": s.status}
               for s in details]
    entries.append({"anchor": "methods", "heading": HEADINGS["methods"],
                    "status": ""})
    toc = render("toc.html", entries=entries)
    rendered = []
    for section in details:
        try:
            rendered.append(render_section(section, figures))
        except Exception as error:  # noqa: BLE001
            warnings.warn(f"The {section.anchor} section could not be rendered: "
                          f"{error_text(error)}", RuntimeWarning, stacklevel=2)
            rendered.append(render_section(_failed(section.anchor,
                                                   error_text(error)), figures))
    return [summary, toc, *rendered, methods]


def _overview_text(ov, width):
    lines = [wrap(ov.caption(), width)]
    columns = {"task": [], "n": []}
    for m in ov.metrics:
        columns[f"{metric_label(m)} MTL/base"] = []
    gain = (f"gain {metric_label(ov.primary)} [{ov.interval_label}]" if ov.primary
            else "gain")
    name, _ = ov.adjust_label
    columns.update({gain: [], "verdict": [], **({name: []} if ov.empirical_bayes
                                                 else {}), "calib": []})
    for row in overview_rows(ov, gain_digits=2):
        values = [row["task"], row["n"]]
        values += [f"{a}/{b}" if a or b else "" for a, b in
                   zip(row["scores"][::2], row["scores"][1::2], strict=True)]
        verdict = {"hurt": "<< hurt", "no detectable difference": "no diff."}.get(
            row["verdict"], row["verdict"])
        values += [row["gain"], verdict] + ([row["fw"]] if ov.empirical_bayes
                                            else []) + [row["flag"].split(":")[0]]
        for key, value in zip(columns, values, strict=True):
            columns[key].append(value)
    lines.append(text_table(pd.DataFrame(columns, dtype=object), width))
    lines += [wrap(line, width) for line in
              ["verdict 'no diff.': no detectable difference.", *ov.legend()]]
    lines += [wrap(sentence, width, "- ") for sentence in ov.sentences]
    return lines


def report_text(report, width=WIDTH):
    """The report as plain text, every line at most ``width`` characters:
    overview, sentences, one short block per part, a pointer to the methods."""
    title = short_label(report.page_title, width)
    lines = [title, "=" * len(title), wrap(report.subtitle, width), "",
             "Summary", "-------", *_overview_text(report.overview, width)]
    for section in sections(report):
        lines += ["", wrap(f"{section.heading}: {section.status}", width)]
        if section.failure is not None:
            lines.append(wrap("This section could not be computed: "
                              f"{section.failure}", width))
            continue
        if section.anchor == "comparison":
            pooled = section.tables[-1][1]
            frame = pd.DataFrame({
                "metric": pooled["metric"], "baseline": pooled["baseline"],
                "pooled gain [95% CI]": [format_interval(*v) for v in zip(
                    pooled["re_diff"], pooled["re_conf_low"],
                    pooled["re_conf_high"], strict=True)],
                "helped": pooled["n_helped"], "hurt": pooled["n_hurt"],
                "I2": pooled["i2"]}, dtype=object)
            lines += [text_table(frame, width, title="Across tasks (positive gain: "
                                 "multitask better)"),
                      wrap("Per task: report.comparison.summary() or the HTML "
                           "report.", width)]
        elif section.anchor == "coefficients":
            caption, frame = section.tables[0]
            lines.append(text_table(frame.head(10), width, title=caption))
            if len(frame) > 10:
                lines.append(f"... {len(frame) - 10} more rows in the HTML report")
        elif section.anchor == "calibration":
            flagged = report.overview.frame
            flagged = flagged[flagged["calibration"] == "check"]
            if len(flagged):
                lines.append(text_table(flagged[["task", "calibration_reason"]]
                                        .rename(columns={"calibration_reason":
                                                         "why flagged"}), width))
        else:
            lines.append(text_table(section.tables[0][1], width))
            lines += [wrap(f"Note: {note}", width) for note in section.notes]
    lines += ["", wrap("Methods, references and every table and figure: the HTML "
                       "report (to_html); each part's summary() has its notes.",
                       width)]
    return "\n".join(lines)
