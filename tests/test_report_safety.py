"""Reports are safe to open: user text is escaped, valid data never crashes.

Every HTML output (``to_html``, ``_repr_html_``, the CLI page) is built with
hostile task labels, feature and column names, baseline names and notes,
then parsed the way a browser would (``html.parser``): only the tags mtstats
writes, no script, no event-handler attribute, no ``javascript:`` URL, only
inline PNG images, and every hostile string back as plain text.
"""

import matplotlib

matplotlib.use("Agg")

from html.parser import HTMLParser  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import mtstats  # noqa: E402
from mtstats.cli import main  # noqa: E402
from mtstats.datasets import (  # noqa: E402
    make_multitask_classification,
    make_multitask_regression,
)
from mtstats.model_selection import RepeatedTaskStratifiedKFold  # noqa: E402
from mtstats.report import (  # noqa: E402
    _conformal,  # noqa: E402
    calibration_report,
    task_report,
)
from mtstats.report._conformal import evaluate_conformal, interval_metrics  # noqa: E402
from mtstats.report._render import plot_label  # noqa: E402
from mtstats.report.calibration import CalibrationResult  # noqa: E402

# CJK and emoji labels are drawn as boxes by the default font: not our concern
# What the pages show is tested, not the empirical-Bayes values: their
# plug-in posterior is enough here (conftest.py).
pytestmark = [pytest.mark.filterwarnings("ignore:Glyph .* missing from font"),
              pytest.mark.usefixtures("plug_in_empirical_bayes")]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS = "javascript:alert(1)"
TABLE = '</table><a href="javascript:alert(1)">x</a>'
UNICODE = "Zürich—東京 🏫"
NEWLINE = "a\nb<b>"
LONG = "x" * 2400 + "<svg onload=alert(1)>" + "y" * 2579
assert len(LONG) == 5000
HOSTILE = [SCRIPT, IMG, JS, TABLE, UNICODE, NEWLINE, LONG]

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "div", "h1", "h2",
                "h3", "section", "table", "caption", "thead", "tbody", "tr", "th",
                "td", "p", "em", "strong", "span", "figure", "img", "figcaption",
                "details", "summary", "nav", "ul", "ol", "li", "a"}
#: The only link targets: the report's own section anchors.
ANCHORS = {"summary", "comparison", "coefficients", "calibration", "model",
           "methods"}


class _Audit(HTMLParser):
    """What a browser would build: tags, attributes, images and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.images, self.data = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_data(self, data):
        self.data.append(data)


def assert_safe(markup, expected=()):
    """Parse ``markup`` and check it; ``expected`` strings must be text."""
    audit = _Audit()
    audit.feed(markup)
    audit.close()
    assert "script" not in audit.tags
    assert audit.tags <= ALLOWED_TAGS, audit.tags - ALLOWED_TAGS
    for name, value in audit.attrs:
        assert not name.lower().startswith("on"), (name, value)
        assert not (value or "").strip().lower().startswith("javascript:"), value
    assert all(src.startswith("data:image/png;base64,") for src in audit.images)
    links = {value for name, value in audit.attrs if name == "href"}
    assert links <= {f"#{anchor}" for anchor in ANCHORS}, links
    ids = {value for name, value in audit.attrs if name == "id"}
    assert ids <= ANCHORS, ids
    text = "".join(audit.data)
    for string in expected:
        assert string in text, f"{string[:40]!r} is not in the page's text"
    return audit


def _relabel(X, labels, features):
    codes = sorted(X["task"].unique())
    X = X.assign(task=X["task"].map(dict(zip(codes, labels, strict=True))))
    return X.rename(columns=dict(zip([c for c in X.columns if c != "task"],
                                     features, strict=True)))


def _cv():
    return RepeatedTaskStratifiedKFold(n_splits=2, n_repeats=1, task_column="task",
                                       random_state=0)


@pytest.fixture(scope="module")
def regression():
    """A regressor's task report: hostile tasks, features, baselines, notes."""
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=3, n_samples=(30, 31),
                                        as_frame=True, random_state=0)
    X = _relabel(X, [SCRIPT, IMG, NEWLINE, LONG], [JS, UNICODE, TABLE])
    baselines = {IMG: mtstats.IndependentRegressor(alpha=0.1, task_column="task"),
                 LONG: mtstats.PooledRegressor(alpha=0.1, task_column="task")}
    estimator = mtstats.TraceNormRegressor(alpha=0.1, task_column="task")
    report = task_report(estimator, X, y, baselines=baselines, cv=_cv(), n_splits=3,
                         random_state=0, notes=HOSTILE)
    return report, [SCRIPT, IMG, NEWLINE, LONG], [JS, UNICODE, TABLE]


@pytest.fixture(scope="module")
def classification():
    """A classifier's task report, the hostile strings in other roles."""
    X, y, _ = make_multitask_classification(n_tasks=4, n_features=3,
                                            n_samples=(40, 41), as_frame=True,
                                            random_state=1)
    X = _relabel(X, [JS, TABLE, UNICODE, NEWLINE], [SCRIPT, IMG, LONG])
    baselines = {SCRIPT: mtstats.IndependentClassifier(alpha=0.05,
                                                       task_column="task")}
    estimator = mtstats.GroupLassoClassifier(alpha=0.01, task_column="task")
    report = task_report(estimator, X, y, baselines=baselines, cv=_cv(), n_splits=3,
                         random_state=0, notes=HOSTILE)
    return report, [JS, TABLE, UNICODE, NEWLINE], [SCRIPT, IMG, LONG]


@pytest.fixture(params=["regression", "classification"])
def report(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------ escaping


def test_task_report_page_is_safe(report, tmp_path):
    result, tasks, features = report
    path = result.to_html(tmp_path / "report.html")
    page = assert_safe(path.read_text(encoding="utf-8"), HOSTILE + tasks + features)
    assert {"table", "section", "figure", "img"} <= page.tags
    assert len(page.images) >= 3


def test_every_repr_html_is_safe(report):
    result, tasks, features = report
    baselines = list(result.comparison.table["baseline"].unique())
    expected = {"task report": (result, tasks + HOSTILE + baselines),
                "comparison": (result.comparison, tasks + baselines),
                "coefficients": (result.coefficients, tasks + features),
                "calibration": (result.calibration, tasks)}
    for name, (part, strings) in expected.items():
        for markup in (part._repr_html_(), part.summary()._repr_html_()):
            assert "<table" in markup, name
            assert_safe(markup, strings)


def test_overview_and_sentences_are_safe(report):
    from mtstats.report._sections import overview_html
    from mtstats.report._text import short_label

    result, tasks, _ = report
    baselines = list(result.comparison.table["baseline"].unique())
    markup = overview_html(result.overview)
    audit = assert_safe(markup, [short_label(t, 60) for t in tasks])
    assert markup.count('title="') == len(tasks)  # the whole label, escaped
    assert {value for name, value in audit.attrs if name == "title"} == {
        f"task: {t}" for t in tasks}
    assert {"table", "tr", "td", "ul", "li"} <= audit.tags
    text = "".join(audit.data)
    assert result.overview.baseline in text or result.overview.baseline[:20] in text
    assert any(b[:20] in " ".join(result.overview.sentences) for b in baselines)
    summary = result.summary().as_text()
    assert all(len(line) <= 100 for line in summary.splitlines())
    assert "&lt;" not in summary and "&quot;" not in summary


def test_html_sections_escape_figure_captions(regression):
    result, tasks, _ = regression
    section = result.comparison.html_section()
    assert_safe(section, [LONG, IMG])
    assert section.count("<img") == 2


def test_text_output_stays_plain(regression):
    result, tasks, features = regression
    for text in (str(result), result.summary().as_text(), str(result.coefficients)):
        assert SCRIPT in text and "&lt;" not in text and "&quot;" not in text
    assert all(f in str(result.coefficients) for f in features)


def test_calibration_report_of_a_regressor_is_safe():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=2, n_samples=(30, 31),
                                        as_frame=True, random_state=2)
    X = _relabel(X, [TABLE, UNICODE, LONG], [SCRIPT, NEWLINE])
    result = calibration_report(
        mtstats.IndependentRegressor(alpha=0.1, task_column="task"), X, y, cv=3,
        random_state=0)
    for markup in (result._repr_html_(), result.summary()._repr_html_(),
                   result.html_section()):
        assert_safe(markup, [TABLE, UNICODE, LONG])


def test_cli_page_is_safe(tmp_path, capsys):
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=2, n_samples=(24, 25),
                                        as_frame=True, random_state=3)
    X = _relabel(X, [SCRIPT, NEWLINE, LONG, UNICODE], [JS, TABLE])
    frame = X.rename(columns={"task": IMG}).assign(**{SCRIPT: y})
    csv = tmp_path / "hostile.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "r.html"
    assert main(["report", str(csv), "--task", IMG, "--target", SCRIPT,
                 "--out", str(out), "--alpha", "0.1", "--folds", "2",
                 "--repeats", "1", "--splits", "2"]) == 0
    # the printed summary is plain text (labels cut to fit a terminal)
    assert SCRIPT[:19] in capsys.readouterr().out
    page = assert_safe(out.read_text(encoding="utf-8"),
                       [SCRIPT, NEWLINE, LONG, UNICODE, JS, TABLE])
    assert len(page.images) >= 3


# --------------------------------------------------- Wilson bounds, no crash


@pytest.mark.parametrize("n", range(1, 61))
def test_wilson_interval_contains_the_proportion(n):
    counts = np.unique([0, 1, n // 3, n // 2, n - 1, n])
    low, high = _conformal.wilson_interval(counts, n)
    p = counts / n
    assert np.all((0 <= low) & (low <= p) & (p <= high) & (high <= 1))
    for k in counts:  # scalars too
        low, high = _conformal.wilson_interval(int(k), n)
        assert 0 <= low <= k / n <= high <= 1


@pytest.mark.parametrize("n", range(1, 61))
def test_full_coverage_keeps_the_error_bars_non_negative(n):
    metrics = interval_metrics(np.zeros(n), -np.ones(n), np.ones(n), alpha=0.1)
    assert metrics["coverage"] == 1 == metrics["cov_high"]
    metrics = interval_metrics(np.zeros(n), np.ones(n), np.ones(n), alpha=0.1)
    assert metrics["coverage"] == 0 == metrics["cov_low"]


def test_coverage_plot_and_page_with_a_fully_covered_task(tmp_path):
    """A task predicted exactly (residuals 0) is covered 100% at n = 28.

    statsmodels gives ``cov_high = 0.9999999999999998`` there: the coverage
    plot raised "'yerr' must not contain negative values".
    """
    rng = np.random.default_rng(0)
    sizes, tasks = [28, 40, 40], [UNICODE, "noisy", "noisier"]
    task_index = np.repeat(np.arange(3), sizes)
    fitted = rng.standard_normal(task_index.shape[0])
    y = fitted + np.where(task_index == 0, 0.0, rng.standard_normal(fitted.shape))
    table, pit = evaluate_conformal(y, fitted, task_index, tasks, 0.2, rng)
    exact = table[table["task"] == UNICODE]
    assert (exact["coverage"] == 1).all() and (exact["cov_high"] <= 1).all()
    augment = pit.loc[pit["method"] == pit["method"].iloc[0],
                      ["task", "row", "y", "fitted"]]
    result = CalibrationResult(table, ("note",), pit=pit, augment=augment,
                               kind="regression")
    result.plot()
    page = result.to_html(tmp_path / "coverage.html")
    assert_safe(page.read_text(encoding="utf-8"), [UNICODE, "noisier"])
    matplotlib.pyplot.close("all")


def test_dollar_signs_and_long_labels_are_plain_figure_text(tmp_path):
    """Labels are not mathtext (``$\\frac{$`` would not parse) nor 5,000
    characters wide in the figures; the tables keep them whole."""
    tasks = ["$\\frac{$", "Price $5-$10", LONG]
    for task in tasks:
        label = plot_label(task)
        assert len(label) <= 40 and "\n" not in label
        assert label.count("$") == label.count("\\$")
    rng = np.random.default_rng(1)
    task_index = np.repeat(np.arange(3), 30)
    fitted = rng.standard_normal(90)
    table, pit = evaluate_conformal(fitted + rng.standard_normal(90), fitted,
                                    task_index, tasks, 0.2, rng)
    result = CalibrationResult(table, (), pit=pit, augment=pit, kind="regression")
    page = result.to_html(tmp_path / "dollars.html").read_text(encoding="utf-8")
    assert_safe(page, tasks)
    assert len(page) < 500_000


def test_reliability_curve_bounds_contain_the_observed_frequency(classification):
    curve = classification[0].calibration.curve
    assert np.all(curve["ci_low"] <= curve["frac_pos"])
    assert np.all(curve["frac_pos"] <= curve["ci_high"])
    assert np.all((curve["ci_low"] >= 0) & (curve["ci_high"] <= 1))


def test_frames_with_hostile_headers_render_as_text():
    from mtstats.report._results import Summary

    frame = pd.DataFrame({SCRIPT: [1.5, np.nan], TABLE: [True, False],
                          NEWLINE: [IMG, JS]})
    summary = Summary(IMG, [(LONG, frame)], [SCRIPT])
    audit = assert_safe(summary.as_html(), [IMG, LONG, SCRIPT, TABLE, NEWLINE, JS])
    assert "table" in audit.tags
    assert SCRIPT in summary.as_text()
