"""The one-screen overview of a task report, on synthetic parts.

Covers the verdict source (empirical Bayes, else the adjusted test), the
strongest baseline, hurt tasks first, the calibration flags, NaN and missing
parts, escaping, integer counts, a figure that fails to save, and the
first-screen screenshot (headless Chromium, skipped where it is not
installed). The full report's page and text are in test_report_html.py.
"""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _html_page import HtmlPage

from mtstats.report import CalibrationResult, ComparisonResult
from mtstats.report._calibration_flags import calibration_flags
from mtstats.report._overview import build_overview
from mtstats.report._render import html_section
from mtstats.report._results import _cells
from mtstats.report._sections import overview_html

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")

SCRIPT = "<script>alert(1)</script>"
QUOTES = "\"&'<b>"
ROOT = Path(__file__).resolve().parents[1]


_Page = HtmlPage


# ------------------------------------------------------------- synthetic parts


def _comparison(eb=True, adjust="holm"):
    """Three tasks, two baselines; "pooled" is the strongest (smallest gain)."""
    rows = []
    gains = {"a": (0.5, True), SCRIPT: (-0.4, True), "c": (0.01, False)}
    for metric, higher in (("mse", False), ("r2", True)):
        for baseline, shift in (("independent", 0.3), (QUOTES, 0.0)):
            for task, (gain, reject) in gains.items():
                verdict = ("helped" if gain > 0 else "hurt") if reject else \
                    "no detectable difference"
                row = dict(task=task, n_train=40.0, n_test=10.0, metric=metric,
                           higher_is_better=higher, baseline=baseline,
                           score_mtl=1.0, score_baseline=1.0 + gain + shift,
                           diff=gain + shift, conf_low=gain + shift - 0.2,
                           conf_high=gain + shift + 0.2, p_value=0.01,
                           p_adj=0.02 if reject else 0.5, adj_method=adjust,
                           reject=reject, verdict=verdict)
                if eb:  # the empirical-Bayes verdicts disagree on purpose
                    row.update(eb_mean=gain / 2, eb_low=gain / 2 - 0.1,
                               eb_high=gain / 2 + 0.1, lfsr=0.01, svalue=0.01,
                               eb_verdict="hurt" if task == "c" else verdict)
                rows.append(row)
    pooled = pd.DataFrame([dict(metric=m, baseline=b, n_tasks=3, n_positive=2,
                                n_helped=1, n_hurt=1, wilcoxon_p=0.5,
                                sign_test_p=1.0, re_diff=d, re_conf_low=d - 0.1,
                                re_conf_high=d + 0.1, i2=0.1, tau2=0.01)
                           for m in ("mse", "r2")
                           for b, d in (("independent", 0.4), (QUOTES, 0.05))])
    return ComparisonResult(table=pd.DataFrame(rows), notes=("Nadeau-Bengio",),
                            pooled=pooled, estimator_name="TraceNormRegressor")


def _classification_calibration():
    table = pd.DataFrame({
        "task": ["a", SCRIPT, "c", "d"], "stage": "held_out", "n": [50, 60, 70, 80],
        "slope": [0.5, 1.0, 1.6, np.nan], "slope_low": [0.3, 0.8, 1.2, np.nan],
        "slope_high": [0.8, 1.2, 2.0, np.nan], "ece_p": [0.5, 0.01, 0.5, np.nan]})
    return CalibrationResult(table, (), kind="classification")


def _regression_calibration():
    rows = []
    for task, binom, ks, estimable in (("a", 0.5, 0.5, True), ("b", 0.01, 0.5, True),
                                       ("c", 0.5, 0.01, True),
                                       ("d", np.nan, 0.5, False)):
        rows += [dict(task=task, n=40, nominal=0.9, method="mondrian_split_conformal",
                      binom_p=binom, pit_ks_p=0.9, estimable=estimable),
                 dict(task=task, n=40, nominal=0.9, method="pooled_split_conformal",
                      binom_p=0.9, pit_ks_p=ks, estimable=True)]
    return CalibrationResult(pd.DataFrame(rows), (), kind="regression")


def test_overview_uses_the_empirical_bayes_verdict_and_the_strongest_baseline():
    ov = build_overview(_comparison(), _classification_calibration())
    assert ov.primary == "mse" and ov.baseline == QUOTES  # re_diff 0.05 < 0.4
    assert ov.empirical_bayes
    frame = ov.frame.set_index("task")
    assert frame.loc["c", "verdict"] == "hurt"  # eb_verdict, not verdict
    assert frame.loc["c", "significant_fw"] == False  # noqa: E712 - Holm column
    assert frame.loc["a", "gain"] == pytest.approx(0.25)  # eb_mean
    assert frame.loc["a", "n"] == 50  # n_train + n_test
    assert list(ov.frame["task"])[:2] == [SCRIPT, "c"]  # hurt tasks first
    assert {"r2_mtl", "r2_baseline", "mse_mtl", "mse_baseline"} <= set(ov.frame)
    assert QUOTES in ov.caption() and "MSE" in ov.caption()
    legend = " ".join(ov.legend())
    assert "false sign rate ≤ 5%" in legend and "family-wise error ≤ 5%" in legend
    hurt = " ".join(ov.sentences)
    assert "hurt 2" in hurt and SCRIPT in hurt


def test_overview_falls_back_to_the_adjusted_test_without_eb_columns():
    ov = build_overview(_comparison(eb=False, adjust="fdr_bh"), None)
    frame = ov.frame.set_index("task")
    assert not ov.empirical_bayes
    assert frame.loc["c", "verdict"] == "no detectable difference"
    assert frame.loc["a", "gain"] == pytest.approx(0.5)  # diff, vs the strongest
    assert "false discovery rate" in " ".join(ov.legend())
    assert (ov.frame["calibration"] == "").all()
    assert "Calibration could not be assessed." in ov.sentences


def test_overview_survives_missing_parts_and_nan():
    empty = build_overview(None, None)
    assert empty.frame.empty and len(empty.sentences) >= 2
    comparison = _comparison()
    table = comparison.table.assign(score_mtl=np.nan, eb_low=np.nan, eb_verdict=None)
    pooled = comparison.pooled.assign(re_diff=np.nan)
    broken = ComparisonResult(table=table, pooled=pooled, estimator_name="M")
    ov = build_overview(broken, None)
    assert ov.baseline == "independent"  # no finite pooled gain: the first one
    assert ov.frame["mse_mtl"].isna().all()
    assert "No pooled gain" in " ".join(ov.sentences)
    assert_safe_overview(ov)


def test_calibration_flags_follow_the_documented_rules():
    flags, rule = calibration_flags(_classification_calibration())
    assert flags == {"a": ("check", "slope < 1"), SCRIPT: ("check", "ECE"),
                     "c": ("check", "slope > 1"), "d": ("", "")}
    assert "slope excludes 1" in rule
    flags, rule = calibration_flags(_regression_calibration())
    assert flags == {"a": ("ok", ""), "b": ("check", "coverage"),
                     "c": ("check", "PIT"), "d": ("check", "no interval")}
    assert "90%" in rule and "PIT" in rule
    assert calibration_flags(None) == ({}, "")


def assert_safe_overview(ov):
    markup = overview_html(ov)
    page = _Page(markup)
    assert not page.tags("script") and not page.tags("b")
    text = "".join(page.text)
    for task in ov.frame["task"]:
        assert str(task) in text
    return page


def test_overview_html_escapes_labels_and_marks_hurt_rows():
    ov = build_overview(_comparison(), _regression_calibration())
    page = assert_safe_overview(ov)
    classes = [attrs.get("class") for attrs in page.tags("tr") if attrs.get("class")]
    assert classes[:2] == ["hurt", "hurt"] and "helped" in classes
    text = "".join(page.text)
    assert QUOTES in text and SCRIPT in text
    assert "<script>" not in overview_html(ov)


def test_counts_print_as_integers():
    frame = pd.DataFrame({"n_test": [5.0, 7.8], "n": [3.0, 4.0], "hl_df": [8.0, 8.0],
                          "diff": [5.0, 1.0], "df": [4.0, np.nan]})
    assert _cells(frame) == [["5", "3", "8", "5.0000", "4"],
                             ["7.8", "4", "8", "1.0000", ""]]


def test_html_section_turns_a_failing_figure_into_a_note():
    from matplotlib.figure import Figure

    class Broken(Figure):
        def savefig(self, *args, **kwargs):
            raise ValueError("no <canvas>")

    with pytest.warns(RuntimeWarning, match="could not be drawn"):
        markup = html_section("body", [("caption", Broken())])
    assert "A figure could not be drawn: ValueError: no &lt;canvas&gt;" in markup


# ------------------------------------------------------------------ screenshot


def _screenshot_module():
    spec = importlib.util.spec_from_file_location(
        "report_screenshot", ROOT / "benchmarks" / "report_screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_first_screen_screenshot(tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed: no screenshot of the first screen")
    shot = _screenshot_module()
    png, html = shot.first_screen(tmp_path / "shot.png", tmp_path / "r.html",
                                  n_tasks=3, n_features=3, n_samples=(30, 40),
                                  folds=2, repeats=1, n_splits=2)
    assert png.exists() and html.exists()
    image = matplotlib.image.imread(png)
    assert image.shape[:2] == (800, 1280)
    assert np.ptp(image[..., :3].reshape(-1, 3), axis=0).max() > 0.5  # not blank
