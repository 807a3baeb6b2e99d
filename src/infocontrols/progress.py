"""Progress of a long command on stderr, shown only to a person at a terminal.

A command that finishes within :data:`SHOW_AFTER` seconds prints nothing extra. A longer one
shows one status line on stderr, rewritten in place, naming what it is doing and for how
long (``infocontrols validate: checking data/events.csv (1/10), 4 s``), and erases it as
soon as the command prints anything (its result, an error), so the line never mixes with
output. When stderr is not a terminal (a pipe, a file, CI) nothing is ever printed, so logs
and captured output stay as they were.

Library code says what it is doing with :func:`step`, which costs nothing when no command
is showing progress.

Example:
    >>> from infocontrols import progress
    >>> with progress.shown("infocontrols validate"):            # doctest: +SKIP
    ...     progress.step("checking data/events.csv", 1, 10)
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Iterator, TextIO

SHOW_AFTER = 2.0  # seconds; INFOCONTROLS_PROGRESS_AFTER overrides it (tests use 0)
REFRESH = 0.25    # seconds between rewrites of the status line
ERASE = "\r\x1b[K"


class _Status:
    """The status line of one command: written by a background thread, updated by :func:`step`."""

    def __init__(self, label: str, stream: TextIO, after: float):
        self.label, self.stream, self.after = label, stream, after
        self.text = ""
        self.started = time.monotonic()
        self.shown = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="infocontrols-progress", daemon=True)

    def _line(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"{self.label}: {self.text + ', ' if self.text else ''}{elapsed} s"

    def _run(self) -> None:
        if self._stop.wait(self.after):
            return
        while True:
            self._write(ERASE + self._line())
            self.shown = True
            if self._stop.wait(REFRESH):
                return

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth failing for
            self._stop.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop showing progress and erase the status line; later calls do nothing."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.shown:
            self.shown = False
            self._write(ERASE)


class _EndsProgress:
    """A stand-in for sys.stdout or sys.stderr: the first write erases the status line."""

    def __init__(self, stream: TextIO, status: _Status):
        self._stream, self._status = stream, status

    def write(self, text: str) -> int:
        self._status.stop()
        return self._stream.write(text)

    def writelines(self, lines) -> None:
        self._status.stop()
        self._stream.writelines(lines)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


_current: _Status | None = None


def _show_after() -> float:
    try:
        return max(0.0, float(os.environ.get("INFOCONTROLS_PROGRESS_AFTER", SHOW_AFTER)))
    except ValueError:
        return SHOW_AFTER


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def shown(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """Show progress of the block on ``stream`` (default: stderr) if it is a terminal and the
    block runs longer than :data:`SHOW_AFTER` seconds; erase it when the block ends."""
    global _current
    stream = stream if stream is not None else sys.stderr
    if _current is not None or not _is_terminal(stream):
        yield
        return
    status = _Status(label, stream, _show_after())
    _current = status
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _EndsProgress(sys.stdout, status), _EndsProgress(sys.stderr, status)
    status.start()
    try:
        yield
    finally:
        _current = None
        status.stop()
        sys.stdout, sys.stderr = saved


def step(text: str, done: int | None = None, total: int | None = None) -> None:
    """Say what the command is doing now, e.g. ``step("checking data/events.csv", 1, 10)``."""
    status = _current
    if status is not None:
        status.text = f"{text} ({done}/{total})" if done is not None and total is not None else text
