"""The ``mtstats`` command line: it never destroys data, fails before it
computes, names the offending value, and never merges task labels."""

import argparse
import os
import subprocess
import sys
import types

import pandas as pd
import pytest

import mtstats
import mtstats.report
from mtstats import _cli_demo, _cli_report
from mtstats.cli import build_parser, main
from mtstats.datasets import make_multitask_regression

pytest.importorskip("matplotlib")

FAST = ["--alpha", "0.1", "--folds", "2", "--repeats", "1", "--splits", "2"]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def data_csv(tmp_path):
    """A small long-layout CSV: 3 tasks of 12-16 rows, features x0, x1."""
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=2,
                                        n_samples=(12, 16), as_frame=True,
                                        random_state=0)
    path = tmp_path / "data.csv"
    X.assign(y=y).to_csv(path, index=False)
    return path


@pytest.fixture
def no_compute(monkeypatch):
    """Make any fit an error, to prove that a refusal comes before the work."""
    def forbidden(*args, **kwargs):
        raise AssertionError("computation started before the checks")
    monkeypatch.setattr(_cli_report, "_compute", forbidden, raising=False)
    monkeypatch.setattr(_cli_report, "_tuned", forbidden)
    monkeypatch.setattr(mtstats.report, "task_report", forbidden)
    monkeypatch.setattr(_cli_demo, "_tuned", forbidden)


def report_argv(path, *extra):
    return ["report", str(path), "--task", "task", "--target", "y", *FAST, *extra]


def refused(argv, capsys, command="report"):
    """Run ``main``; assert exit status 2 and one error line; return it."""
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"mtstats {command}: error: ")
    return lines[0]


def argparse_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# ------------------------------------------------------------ output files


@pytest.mark.parametrize("spelling", ["same", "dot-relative", "symlink"])
def test_out_that_is_the_input_is_refused(spelling, data_csv, tmp_path, capsys,
                                          monkeypatch, no_compute):
    before = data_csv.read_bytes()
    out = data_csv
    if spelling == "dot-relative":
        monkeypatch.chdir(tmp_path)
        out = "./" + data_csv.name
    elif spelling == "symlink":
        out = tmp_path / "link.csv"
        out.symlink_to(data_csv)
    for force in ([], ["--force"]):
        line = refused(report_argv(data_csv, "--out", str(out), *force), capsys)
        assert "is the input file" in line
    assert data_csv.read_bytes() == before


def test_existing_out_needs_force(data_csv, tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_bytes(b"precious")
    line = refused(report_argv(data_csv, "--out", str(out)), capsys)
    assert "already exists" in line and "--force" in line
    assert out.read_bytes() == b"precious"
    assert main(report_argv(data_csv, "--out", str(out), "--force")) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"wrote {out}" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "report.html"]


@pytest.mark.parametrize("case", ["missing-directory", "parent-is-a-file",
                                  "directory"])
def test_unwritable_out_fails_before_computing(case, data_csv, tmp_path, capsys,
                                               no_compute):
    out = {"missing-directory": tmp_path / "nowhere" / "report.html",
           "parent-is-a-file": data_csv / "report.html",
           "directory": tmp_path}[case]
    before = data_csv.read_bytes()
    line = refused(report_argv(data_csv, "--out", str(out)), capsys)
    assert {"missing-directory": "does not exist",
            "parent-is-a-file": "is not a directory",
            "directory": "is a directory"}[case] in line
    assert data_csv.read_bytes() == before


@pytest.mark.skipif(AS_ROOT, reason="root writes through permission bits")
@pytest.mark.parametrize("case", ["read-only-directory", "read-only-file"])
def test_read_only_out_fails_before_computing(case, data_csv, tmp_path, capsys,
                                              no_compute):
    folder = tmp_path / "folder"
    folder.mkdir()
    out = folder / "report.html"
    if case == "read-only-file":
        out.write_bytes(b"keep")
        out.chmod(0o444)
    folder.chmod(0o555)
    try:
        line = refused(report_argv(data_csv, "--out", str(out), "--force"), capsys)
    finally:
        folder.chmod(0o755)
    assert "read-only" in line or "cannot write" in line


@pytest.mark.parametrize("case", ["read-only-directory", "read-only-file"])
def test_read_only_out_simulated(case, data_csv, tmp_path, capsys, monkeypatch,
                                 no_compute):
    """The read-only cases as the kernel reports them to a non-root user."""
    from mtstats import _cli_common

    out = tmp_path / "report.html"
    if case == "read-only-file":
        out.write_bytes(b"keep")
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: (
            mode != os.W_OK and real_access(p, mode)) if str(p) == str(out)
            else real_access(p, mode))
    else:
        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(_cli_common, "tempfile",
                            types.SimpleNamespace(mkstemp=denied))
    line = refused(report_argv(data_csv, "--out", str(out), "--force"), capsys)
    assert {"read-only-file": "is read-only",
            "read-only-directory": "cannot write in directory"}[case] in line
    assert case == "read-only-directory" or out.read_bytes() == b"keep"


def test_failed_write_leaves_the_old_file_and_no_debris(data_csv, tmp_path, capsys,
                                                        monkeypatch):
    class Broken:
        def to_html(self, path):
            with open(path, "w") as handle:
                handle.write("<html>half")
            raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(_cli_report, "_compute", lambda *a: Broken(),
                        raising=False)
    monkeypatch.setattr(mtstats.report, "task_report", lambda *a, **k: Broken())
    out = tmp_path / "report.html"
    out.write_bytes(b"old report")
    line = refused(report_argv(data_csv, "--out", str(out), "--force"), capsys)
    assert "No space left on device" in line
    assert out.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "report.html"]


def test_demo_write_csv_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    path = tmp_path / "demo.csv"
    path.write_bytes(b"mine")
    with monkeypatch.context() as patch:
        patch.setattr(_cli_demo, "_tuned", lambda *a: pytest.fail("computed"))
        line = refused(["demo", "--write-csv", str(path)], capsys, "demo")
    assert "already exists" in line and "--force" in line
    assert path.read_bytes() == b"mine"
    assert main(["demo", "--n-tasks", "2", "--n-features", "2", "--write-csv",
                 str(path), "--force"]) == 0
    assert pd.read_csv(path)["task"].nunique() == 2


# ------------------------------------------------------------- input files


def test_classification_of_a_continuous_target_fails_up_front(data_csv, capsys,
                                                              no_compute):
    line = refused(report_argv(data_csv, "--kind", "classification"), capsys)
    assert "exactly two distinct values" in line and "'y' has" in line


def test_regression_of_a_text_target_names_the_value(data_csv, tmp_path, capsys,
                                                     no_compute):
    frame = pd.read_csv(data_csv)
    frame["y"] = frame["y"].round(1).astype(str)
    frame.loc[4, "y"] = "high"
    frame.to_csv(data_csv, index=False)
    line = refused(report_argv(data_csv, "--kind", "regression"), capsys)
    assert "numeric target" in line and "'high' on line 6" in line
    line = refused(report_argv(data_csv), capsys)  # auto: text, not 2 values
    assert "exactly two distinct values" in line and "'high' on line 6" in line


def test_non_numeric_feature_names_the_offending_cell(data_csv, capsys, no_compute):
    frame = pd.read_csv(data_csv)
    frame["x1"] = frame["x1"].astype(object)
    frame.loc[6, "x1"] = "abc"
    frame.to_csv(data_csv, index=False)
    line = refused(report_argv(data_csv), capsys)
    assert "feature column 'x1' is not numeric: 'abc' on line 8" in line


def test_header_only_file_has_no_data_rows(tmp_path, capsys, no_compute):
    path = tmp_path / "empty.csv"
    path.write_text("x0,x1,task,y\n")
    assert "has no data rows" in refused(report_argv(path), capsys)


def test_missing_task_label_is_an_error(data_csv, capsys, no_compute):
    frame = pd.read_csv(data_csv)
    frame.loc[2, "task"] = None
    frame.to_csv(data_csv, index=False)
    line = refused(report_argv(data_csv), capsys)
    assert "column 'task' has 1 missing value(s), the first on line 4" in line


def test_separator_is_sniffed_or_suggested(data_csv, tmp_path, capsys, no_compute):
    from mtstats._cli_io import load_long_csv

    path = tmp_path / "semicolon.csv"
    pd.read_csv(data_csv).to_csv(path, sep=";", index=False)
    X, y, _, classification = load_long_csv(path, "task", "y")
    assert list(X.columns) == ["x0", "x1", "task"] and not classification
    assert len(y) == len(pd.read_csv(data_csv))
    line = refused(report_argv(path, "--sep", ","), capsys)
    assert "task column 'task' is not in" in line and "--sep ';'" in line


def test_features_may_not_repeat_the_task_or_target(data_csv, capsys, no_compute):
    line = refused(report_argv(data_csv, "--features", "x0,task"), capsys)
    assert "--features lists ['task']" in line


@pytest.mark.parametrize("case", ["directory", "missing", "unreadable"])
def test_unreadable_input_is_one_line(case, tmp_path, data_csv, capsys,
                                      no_compute):
    if case == "unreadable":
        if AS_ROOT:
            pytest.skip("root reads through permission bits")
        data_csv.chmod(0o000)
    path = {"directory": tmp_path, "missing": tmp_path / "no.csv",
            "unreadable": data_csv}[case]
    line = refused(report_argv(path, "--out", str(tmp_path / "r.html")), capsys)
    assert {"directory": "is a directory", "missing": "No such file",
            "unreadable": "Permission denied"}[case] in line


@pytest.mark.parametrize("option,value", [("--folds", "1"), ("--repeats", "0"),
                                          ("--splits", "0"), ("--alpha", "0"),
                                          ("--alpha", "-1"), ("--alpha", "nan"),
                                          ("--n-jobs", "0")])
def test_impossible_numbers_are_refused(option, value, data_csv, capsys,
                                        no_compute):
    line = argparse_error(report_argv(data_csv, option, value), capsys)
    assert f"argument {option}" in line and value in line


def test_task_labels_1_and_1_0_stay_two_tasks(data_csv, tmp_path, capsys,
                                              monkeypatch):
    frame = pd.read_csv(data_csv)
    frame["task"] = frame["task"].map({"task_00": "1", "task_01": "1.0",
                                       "task_02": "2"})
    frame.to_csv(data_csv, index=False)
    reports = []
    real = mtstats.report.task_report
    monkeypatch.setattr(mtstats.report, "task_report",
                        lambda *a, **k: reports.append(real(*a, **k)) or reports[0])
    assert main(report_argv(data_csv, "--out", str(tmp_path / "r.html"))) == 0
    assert sorted(reports[0].tasks["task"]) == ["1", "1.0", "2"]


# ------------------------------------------------------------ the command


def test_version_with_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "mtstats", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"mtstats {mtstats.__version__}"


def _actions(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action
            yield from action._choices_actions
            for sub in action.choices.values():
                yield from _actions(sub)
        elif not isinstance(action, argparse._HelpAction):
            yield action


def test_every_option_has_help():
    undocumented = [action.dest for action in _actions(build_parser())
                    if not (action.help and action.help.strip())]
    assert undocumented == []


@pytest.mark.parametrize("flag,pooled", [(None, True), ("--partial-pooling", True),
                                         ("--no-partial-pooling", False)])
def test_partial_pooling_flag_shares_the_mean_of_the_multitask_model_only(
        flag, pooled, data_csv, tmp_path, monkeypatch):
    seen = {}

    def capture(estimator, X, y, baselines=None, **kwargs):
        seen["mtl"], seen["baselines"] = estimator, baselines
        raise SystemExit(0)

    monkeypatch.setattr(mtstats.report, "task_report", capture)
    argv = report_argv(data_csv, "--out", str(tmp_path / "r.html"), "--alpha", "0.1")
    with pytest.raises(SystemExit):
        main(argv + ([flag] if flag else []))
    params = seen["mtl"].get_params()
    assert params["shared_mean"] is pooled
    assert params["intercept_shrinkage"] == ("auto" if pooled else 0.0)
    for baseline in seen["baselines"].values():  # same intercepts, plain slopes
        assert baseline.get_params()["intercept_shrinkage"] == params[
            "intercept_shrinkage"]
        assert not baseline.get_params().get("shared_mean", False)


@pytest.mark.parametrize("flag,adjust", [(None, "holm"), ("holm", "holm"),
                                         ("fdr_bh", "fdr_bh")])
def test_adjust_flag_reaches_the_report(flag, adjust, data_csv, tmp_path,
                                        monkeypatch):
    seen = {}

    def capture(estimator, X, y, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(mtstats.report, "task_report", capture)
    argv = report_argv(data_csv, "--out", str(tmp_path / "r.html"))
    with pytest.raises(SystemExit):
        main(argv + (["--adjust", flag] if flag else []))
    assert seen["adjust"] == adjust


def test_unknown_adjust_method_is_refused(data_csv, capsys, no_compute):
    message = argparse_error(report_argv(data_csv, "--adjust", "bonferroni"), capsys)
    assert "--adjust" in message and "bonferroni" in message
