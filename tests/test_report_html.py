"""The combined task report, its self-contained HTML file, and the CLI."""

import base64
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import mtstats
from mtstats.cli import main
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.model_selection import RepeatedTaskStratifiedKFold
from mtstats.report import task_report

pytest.importorskip("matplotlib")


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
    assert page.tags.count("section") == 4
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
