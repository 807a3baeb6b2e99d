"""Long commands show progress on a terminal's stderr, and nowhere else.

INFOCONTROLS_PROGRESS_AFTER=0 makes even a short run count as long, so these tests need no
slow run and measure no time.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import pytest

from infocontrols import progress

from conftest import ROOT

ERASE = progress.ERASE


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the status line never appeared"
        time.sleep(0.01)


def run_validate(stderr, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "infocontrols.cli", "validate", str(ROOT)],
        stdout=subprocess.PIPE, stderr=stderr, env=dict(os.environ, INFOCONTROLS_PROGRESS_AFTER="0", **env),
    )


@pytest.mark.slow  # the CLI in a subprocess
def test_a_run_whose_stderr_is_a_pipe_prints_no_progress():
    proc = run_validate(subprocess.PIPE)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert err == b""
    report = out.decode()
    assert ERASE not in report
    assert report.splitlines()[-1].startswith("valid: ")


@pytest.mark.slow  # the CLI in a subprocess, on a pty
def test_a_run_at_a_terminal_shows_progress_then_erases_it_before_the_result():
    master, slave = os.openpty()
    try:
        proc = run_validate(slave)
    finally:
        os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert shown.startswith(ERASE.encode() + b"infocontrols validate: ")
    assert shown.endswith(ERASE.encode())  # nothing is left on the line
    report = out.decode()  # and stdout is the report alone: findings, then the verdict
    assert ERASE not in report and "infocontrols validate: " not in report
    assert report.splitlines()[-1].startswith("valid: ")


def test_the_status_line_names_the_step_and_output_erases_it(monkeypatch):
    monkeypatch.setenv("INFOCONTROLS_PROGRESS_AFTER", "0")
    terminal = Terminal()
    with progress.shown("infocontrols validate", stream=terminal):
        progress.step("checking data/events.csv", 1, 10)
        wait_for(lambda: "checking data/events.csv (1/10)" in terminal.getvalue())
        print("the result")
        assert terminal.getvalue().endswith(ERASE)  # erased before the result was printed
        after_print = terminal.getvalue()
    assert terminal.getvalue() == after_print  # and not written again
    assert "infocontrols validate: checking data/events.csv (1/10), " in terminal.getvalue()


def test_a_short_run_at_a_terminal_prints_nothing(monkeypatch):
    monkeypatch.delenv("INFOCONTROLS_PROGRESS_AFTER", raising=False)
    terminal = Terminal()
    with progress.shown("infocontrols validate", stream=terminal):
        progress.step("checking data/events.csv", 1, 10)
    assert terminal.getvalue() == ""


def test_steps_outside_a_command_do_nothing():
    progress.step("checking data/events.csv", 1, 10)  # no command is showing progress: no error, no output
    assert progress._current is None
