"""The combined task report: its self-contained HTML file in reading order
(summary, contents, sections, methods), integer counts, parts and figures
that fail without sinking it, its text summary, and the CLI."""

import base64
import re
import sys
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from _html_page import HtmlPage

import mtstats
from mtstats.cli import main
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.model_selection import RepeatedTaskStratifiedKFold
from mtstats.report import CalibrationResult, task_report

pytest.importorskip("matplotlib")
# What the pages show is tested, not the empirical-Bayes values: their
# plug-in posterior is enough here (conftest.py).
pytestmark = [pytest.mark.filterwarnings("ignore:Glyph .* missing from font"),
              pytest.mark.usefixtures("plug_in_empirical_bayes")]

SCRIPT = "<script>alert(1)</script>"
QUOTES = "\"&'<b>"


class _Collector(HTMLParser):
    """Collects tags, image sources and external references of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.images, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(attrs[key])


def _parse(path):
    collector = _Collector()
    collector.feed(open(path, encoding="utf-8").read())
    return collector


def _check_page(path):
    page = _parse(path)
    assert page.tags.count("table") >= 4
    assert page.tags.count("section") == 4  # comparison, coefficients, ..., model
    assert page.tags.count("h1") == 1 and page.tags.count("nav") == 1
    assert page.tags.count("details") >= 6  # summary, 4 sections, methods
    assert page.external == []  # self-contained
    assert len(page.images) >= 3
    for src in page.images:
        header, data = src.split(",", 1)
        assert header == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def regression_data():
    return make_multitask_regression(n_tasks=4, n_features=3, n_samples=(40, 50),
                                     as_frame=True, random_state=0)


def test_task_report_writes_a_self_contained_page(regression_data, tmp_path):
    X, y, _ = regression_data
    cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=1, task_column="task",
                                     random_state=0)
    report = task_report(mtstats.TraceNormRegressor(alpha=0.05, task_column="task"),
                         X, y, cv=cv, random_state=0)
    assert list(report.tasks["task"]) == ["task_00", "task_01", "task_02", "task_03"]
    assert report.tasks["n_train"].sum() == len(y)
    assert "TraceNormRegressor" in str(report)
    assert "<table" in report._repr_html_()
    _check_page(report.to_html(tmp_path / "report.html"))


def test_task_report_for_a_classifier(tmp_path):
    X, y, _ = make_multitask_classification(n_tasks=3, n_features=3,
                                            n_samples=(60, 80), as_frame=True,
                                            random_state=1)
    cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=1, task_column="task",
                                     random_state=0)
    report = task_report(mtstats.GroupLassoClassifier(alpha=0.01, task_column="task"),
                         X, y, cv=cv, random_state=0)
    _check_page(report.to_html(tmp_path / "report.html"))


# ------------------------------------- reading order, counts, failing parts


_Page = HtmlPage




def _data():
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=3, n_samples=(30, 36),
                                        as_frame=True, random_state=0)
    codes = sorted(X["task"].unique())
    X = X.assign(task=X["task"].map(dict(zip(codes, [SCRIPT, "b", "c", "x" * 300],
                                             strict=True))))
    return X.rename(columns={"x0": QUOTES}), y


def _report(**kwargs):
    X, y = _data()
    cv = RepeatedTaskStratifiedKFold(n_splits=2, n_repeats=1, task_column="task",
                                     random_state=0)
    baselines = {"independent": mtstats.IndependentRegressor(alpha=0.1,
                                                             task_column="task"),
                 "b" * 200: mtstats.PooledRegressor(alpha=0.1, task_column="task")}
    return task_report(mtstats.TraceNormRegressor(alpha=0.1, task_column="task"),
                       X, y, baselines=baselines, cv=cv, n_splits=2, random_state=0,
                       **kwargs)


@pytest.fixture(scope="module")
def report():
    return _report()


def test_page_reads_top_down(report, tmp_path):
    markup = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    page = _Page(markup)
    assert len(page.tags("h1")) == 1 and "mtstats calibration report" not in markup
    details = {attrs.get("id"): "open" in attrs for attrs in page.tags("details")}
    assert details == {"summary": True, "comparison": False, "coefficients": False,
                       "calibration": False, "model": False, "methods": False,
                       None: False}  # the nested toggle of every coefficient
    order = [markup.index(f'id="{anchor}"') for anchor in
             ("summary", "comparison", "coefficients", "calibration", "methods")]
    assert order == sorted(order) and markup.index('class="toc"') < order[1]
    assert markup.index("Nadeau-Bengio corrected") > order[-1]  # the appendix
    for reference in ("Nadeau, C. &amp; Bengio", "Holm, S. (1979)", "Stephens, M.",
                      "Meinshausen, N., Meier", "Lei, J.", "DerSimonian",
                      "Benjamini, Y. &amp; Hochberg"):
        assert reference in markup[order[-1]:]
    text = "".join(page.text)
    assert SCRIPT in text and QUOTES in text and "<script>" not in markup
    assert "r2_mtl" in text  # R² next to the primary metric, per task


class _Tables(HTMLParser):
    """Headers and cells of every ``table.simpletable`` of a page."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.tables, self._cell = [], None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("class") == "simpletable":
            self.tables.append({"headers": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td") and self.tables:
            self._cell = tag
            target = (self.tables[-1]["headers"] if tag == "th"
                      else self.tables[-1]["rows"][-1])
            target.append("")

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._cell = None

    def handle_data(self, data):
        if self._cell == "th":
            self.tables[-1]["headers"][-1] += data
        elif self._cell == "td":
            self.tables[-1]["rows"][-1][-1] += data


def test_count_columns_have_no_decimals_on_the_page(report, tmp_path):
    markup = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    seen = set()
    for table in _Tables(markup).tables:
        for j, name in enumerate(table["headers"]):
            if re.fullmatch(r"n|n_\w+|hl_df|df|nnz\w*|rank", name):
                cells = [row[j] for row in table["rows"] if len(row) > j]
                assert not any(re.fullmatch(r"-?\d+\.0+", c) for c in cells), \
                    (name, cells)
                seen.add(name)
    assert {"n", "n_test", "n_train", "n_tasks", "n_helped", "n_iter"} <= seen


def test_text_summary_fits_a_terminal(report):
    text = str(report)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].startswith("mtstats task report: TraceNormRegressor")
    assert text.index("Summary") < text.index("- Against") < text.index(
        "Does sharing help?") < text.index("Methods")
    assert SCRIPT[:20] in text and "&lt;" not in text  # labels may be cut
    assert "x" * 300 not in text and "b" * 200 not in text
    assert len(lines) < 120  # no 360-row coefficient table


def test_coefficients_show_the_significant_rows_and_hide_the_rest(report):
    part = report.coefficients
    tables, status = part.highlights()
    hit = part.table[part.significant() & (part.table["task"] != "__all__")]
    if len(hit):
        assert len(tables[0][1]) == len(hit)
    else:
        assert tables[0][0].startswith("No coefficient is significant")
    assert f"of {4 * 3} coefficients" in status
    table = part.table.assign(p_adj=1.0, lfsr=0.5)
    table.loc[table.index[table["task"] != "__all__"][0], "lfsr"] = 0.01
    with_lfsr = type(part)(table, part.notes)
    tables, _ = with_lfsr.highlights()
    assert len(tables[0][1]) == 1 and "lfsr" in tables[0][1]


def test_a_failing_part_becomes_a_note(monkeypatch, tmp_path):
    module = sys.modules["mtstats.report.task_report"]

    def boom(*args, **kwargs):
        raise ValueError("singular <matrix> & co")

    monkeypatch.setattr(module, "coefficient_tests", boom)
    with pytest.warns(RuntimeWarning, match="coefficients part could not be"):
        broken = _report()
    assert broken.coefficients is None
    assert broken.errors == {"coefficients": "ValueError: singular <matrix> & co"}
    markup = broken.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert ("This section could not be computed: ValueError: singular "
            "&lt;matrix&gt; &amp; co") in markup
    assert 'id="comparison"' in markup and 'id="calibration"' in markup
    assert markup.count("data:image/png") >= 3  # the other parts' figures
    text = str(broken)
    assert "could not be computed: ValueError: singular <matrix>" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "<table" in broken._repr_html_()


def test_a_failing_figure_becomes_a_note(monkeypatch, tmp_path, report):
    def boom(self, *args, **kwargs):
        raise RuntimeError("no display")

    monkeypatch.setattr(CalibrationResult, "figures", boom)
    with pytest.warns(RuntimeWarning, match="figures could not be drawn"):
        markup = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "The figures could not be drawn: RuntimeError: no display" in markup
    assert markup.count("data:image/png") >= 3  # comparison and coefficients
    with pytest.warns(RuntimeWarning, match="figures could not be drawn"):
        section = report.calibration.html_section()  # a standalone result too
    assert "The figures could not be drawn: RuntimeError" in section
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "Calibration" in str(report)  # the text never draws


def test_a_section_or_summary_that_cannot_be_built_becomes_a_note(monkeypatch,
                                                                   tmp_path):
    from mtstats.report import CoefficientResult

    def boom(*args, **kwargs):
        raise KeyError("p_adj")

    monkeypatch.setattr(CoefficientResult, "highlights", boom)
    fresh = _report()
    with pytest.warns(RuntimeWarning, match="coefficients section could not be"):
        markup = fresh.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "This section could not be computed: KeyError: &#39;p_adj&#39;" in markup
    assert markup.count("<table") >= 6  # the overview and the other sections
    monkeypatch.undo()
    monkeypatch.setattr(sys.modules["mtstats.report.task_report"],
                        "build_overview", boom)
    with pytest.warns(RuntimeWarning, match="summary could not be computed"):
        text = str(_report())
    assert "The summary could not be computed: KeyError" in text


# ----------------------------------------------------------------------- CLI


@pytest.fixture
def csv_file(regression_data, tmp_path):
    X, y, _ = regression_data
    path = tmp_path / "schools.csv"
    X.assign(score=y).to_csv(path, index=False)
    return path


def test_cli_report_writes_html_and_prints_the_summary(csv_file, tmp_path, capsys):
    out = tmp_path / "out.html"
    status = main(["report", str(csv_file), "--task", "task", "--target", "score",
                   "--estimator", "group-lasso", "--folds", "3", "--repeats", "1",
                   "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "task_00" in printed and f"wrote {out}" in printed
    assert printed.index("Summary") < printed.index("- Against the strongest")
    assert max(len(line) for line in printed.splitlines()[:-1]) <= 100
    _check_page(out)


def _error(argv, capsys):
    assert main(argv) == 2
    return capsys.readouterr().err


def test_cli_names_a_missing_column(csv_file, capsys):
    err = _error(["report", str(csv_file), "--task", "school", "--target", "score"],
                 capsys)
    assert "task column 'school' is not in" in err


def test_cli_names_a_non_numeric_feature(csv_file, tmp_path, capsys):
    frame = pd.read_csv(csv_file).assign(sex="F")
    frame.to_csv(csv_file, index=False)
    err = _error(["report", str(csv_file), "--task", "task", "--target", "score"],
                 capsys)
    assert "feature column 'sex' is not numeric" in err


def test_cli_names_tasks_with_too_few_rows(csv_file, capsys):
    frame = pd.read_csv(csv_file)
    frame.loc[:2, "task"] = "tiny"
    frame.to_csv(csv_file, index=False)
    err = _error(["report", str(csv_file), "--task", "task", "--target", "score"],
                 capsys)
    assert "'tiny' (3 rows)" in err and "--drop-small-tasks" in err


def test_cli_demo_runs_and_writes_its_data(tmp_path, capsys):
    path = tmp_path / "demo.csv"
    assert main(["demo", "--n-tasks", "4", "--n-features", "5",
                 "--write-csv", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "Held-out R^2 per task" in printed and "mean" in printed
    frame = pd.read_csv(path)
    assert {"task", "y"} <= set(frame.columns) and frame["task"].nunique() == 4
    assert np.isfinite(frame.drop(columns="task").to_numpy()).all()
