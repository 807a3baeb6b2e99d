"""`add` and `build` on a real package: killed, out of space, read-only, or two at once, the
package is left exactly as before or exactly as after, and what they print is true."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infocontrols import storage

from conftest import copy_package, files_of
from test_importer import NEW, event

pytestmark = pytest.mark.slow  # commands killed, raced and starved in subprocesses


def cli(*args, env=None, preexec_fn=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)


def rel_state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): b for p, b in files_of(root).items()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "events.json"
    path.write_text(json.dumps([NEW]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def after_add(tmp_path_factory, batch) -> dict[str, bytes]:
    """The package exactly as a completed `add` of the batch leaves it."""
    root = copy_package(tmp_path_factory.mktemp("after") / "pkg")
    result = cli("add", batch, root, "--accessed-on", "2026-11-28")
    assert result.returncode == 0, result.stderr
    return rel_state(root)


def files_add_writes(before: dict[str, bytes], after: dict[str, bytes]) -> int:
    return sum(1 for rel in after if before.get(rel) != after[rel])


# --------------------------------------------------------------- killed
def run_killed_add(tmp_path, batch, point: str) -> tuple[dict, Path]:
    root = copy_package(tmp_path / f"pkg-{point.replace(':', '-')}")
    before = rel_state(root)
    killed = cli("add", batch, root, "--accessed-on", "2026-11-28", env={"INFOCONTROLS_TEST_KILL": point})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    return before, root


def assert_old_or_new(root: Path, before: dict, after: dict, expect: str) -> None:
    # Any command first completes or discards the interrupted write; `validate` is one.
    result = cli("validate", root, "--format", "json")
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    now = rel_state(root)
    assert now == (before if expect == "old" else after), f"neither the old nor the new state (expected {expect})"
    if expect == "new":
        rules = {f["rule"] for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"}
        assert rules == {"STR012"}, "validate sees the whole new state: only the Parquet files are behind the CSV"


@pytest.mark.parametrize("point, expect", [("temp:2", "old"), ("journal:1", "new"), ("replace:4", "new")])
def test_add_killed_while_writing_leaves_old_or_new(tmp_path, batch, after_add, point, expect):
    before, root = run_killed_add(tmp_path, batch, point)
    assert_old_or_new(root, before, after_add, expect)


@pytest.mark.slow
def test_add_killed_at_every_table_leaves_old_or_new(tmp_path, batch, after_add):
    """Killed after each table's rename (and after the first and last temporary, and the commit).

    tests/test_storage.py kills the writer after every one of its steps; this runs the real
    command on the real package at each table."""
    n = files_add_writes(rel_state(copy_package(tmp_path / "count")), after_add)
    assert n >= 6
    points = [("temp:1", "old"), (f"temp:{n}", "old"), ("journal:1", "new")] + [(f"replace:{k}", "new") for k in range(1, n + 1)]
    for point, expect in points:
        before, root = run_killed_add(tmp_path, batch, point)
        assert_old_or_new(root, before, after_add, expect)
        shutil.rmtree(root)


def test_build_killed_midway_is_completed_and_valid(tmp_path):
    root = copy_package(tmp_path / "pkg")
    figures = root / "data" / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",approximate,", ",exact,", 1), encoding="utf-8")
    killed = cli("build", root, env={"INFOCONTROLS_TEST_KILL": "replace:1"})
    assert killed.returncode == -signal.SIGKILL
    result = cli("validate", root)
    assert result.returncode == 0, result.stdout[-2000:]
    assert cli("build", root, "--check").returncode == 0
    assert not list(root.rglob(".infocontrols-tmp-*"))


def test_build_killed_before_its_commit_leaves_no_temporaries(tmp_path):
    root = copy_package(tmp_path / "pkg")
    figures = root / "data" / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",approximate,", ",exact,", 1), encoding="utf-8")
    before = rel_state(root)
    assert cli("build", root, env={"INFOCONTROLS_TEST_KILL": "temp:2"}).returncode == -signal.SIGKILL
    assert list(root.rglob(".infocontrols-tmp-*")), "the kill left temporaries behind"
    assert cli("build", root, "--check").returncode == 1  # stale outputs; no writer holds the lock, so it cleans up
    assert not list(root.rglob(".infocontrols-tmp-*"))
    result = cli("build", root)
    assert result.returncode == 0 and not list(root.rglob(".infocontrols-tmp-*"))
    assert rel_state(root) != before


# --------------------------------------------------------------- out of space, read-only
def test_add_out_of_space_writes_nothing_and_says_so(tmp_path, batch):
    import resource

    root = copy_package(tmp_path / "pkg")
    before = rel_state(root)

    def limit():  # `ulimit -f`: no file may grow past 100 KB (events.csv and sources.csv are larger)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = cli("add", batch, root, "--accessed-on", "2026-11-28", preexec_fn=limit)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nothing was added" in result.stderr and "nothing was written: cannot write the file: file too large" in result.stderr
    assert "added 1 event" not in result.stdout
    assert rel_state(root) == before


def test_add_with_an_io_error_after_the_commit_completes_it(tmp_path, batch, after_add):
    root = copy_package(tmp_path / "pkg")
    result = cli("add", batch, root, "--accessed-on", "2026-11-28", env={"INFOCONTROLS_TEST_FAIL": "replace:3"})
    assert result.returncode == 0 and "added 1 event(s)" in result.stdout, result.stderr
    assert rel_state(root) == after_add


def test_add_whose_write_cannot_be_completed_says_so_and_the_next_command_completes_it(tmp_path, batch, after_add):
    root = copy_package(tmp_path / "pkg")
    result = cli("add", batch, root, "--accessed-on", "2026-11-28", env={"INFOCONTROLS_TEST_FAIL": "replace:3,recover:1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the events were added, but the write was interrupted after its commit point" in result.stderr
    assert "the next infocontrols command with write access completes it" in result.stderr
    assert "nothing was added" not in result.stderr
    assert (root / storage.JOURNAL_NAME).exists()
    assert cli("info", root).returncode == 0  # any command: it completes the write first
    assert rel_state(root) == after_add


def without_write_permission():
    """Run as a process the file permissions apply to: drop root's override if we are root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        message = "running as root without setpriv (util-linux): permissions cannot be tested"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}"]


def test_a_read_only_data_folder_writes_nothing_and_says_so(tmp_path, batch):
    root = copy_package(tmp_path / "pkg")
    figures = root / "data" / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",approximate,", ",exact,", 1), encoding="utf-8")
    prefix = without_write_permission()
    before = rel_state(root)
    (root / "data").chmod(0o555)
    try:
        for args in (["add", batch, root, "--accessed-on", "2026-11-28"], ["build", root]):
            result = subprocess.run([*prefix, sys.executable, "-m", "infocontrols.cli", *map(str, args)], capture_output=True, text=True, timeout=180)
            assert result.returncode == 2, result.stdout + result.stderr
            assert "Traceback" not in result.stderr and "permission denied" in result.stderr and "data/" in result.stderr
            assert "nothing was written" in result.stderr
    finally:
        (root / "data").chmod(0o755)
    assert rel_state(root) == before


# --------------------------------------------------------------- two at once
def hold_lock_env(folder: Path) -> dict:
    folder.mkdir()
    return {**os.environ, "INFOCONTROLS_TEST_HOLD_LOCK": str(folder)}


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    """Wait for the other process's handshake file (it appears once it holds the lock)."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the other process never took the lock"
        time.sleep(0.01)


def test_add_during_build_is_refused_with_the_lock_message(tmp_path, batch, after_add):
    root = copy_package(tmp_path / "pkg")
    hold = tmp_path / "hold"
    building = subprocess.Popen([sys.executable, "-m", "infocontrols.cli", "build", str(root)], env=hold_lock_env(hold),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(hold / "locked", building)
        before = rel_state(root)
        second = cli("add", batch, root, "--accessed-on", "2026-11-28", env={"INFOCONTROLS_LOCK_TIMEOUT": "0.3"})
        assert second.returncode == 2
        assert "another infocontrols command is writing this package" in second.stderr and "try again when it finishes" in second.stderr
        assert "nothing was added" in second.stderr and rel_state(root) == before
    finally:
        (hold / "release").touch()
        out, err = building.communicate(timeout=180)
    assert building.returncode == 0, err
    assert cli("add", batch, root, "--accessed-on", "2026-11-28").returncode == 0
    assert cli("build", root).returncode == 0 and cli("validate", root).returncode == 0


def test_two_adds_at_once_lose_no_batch(tmp_path):
    """Both start together; the second waits for the first (a generous lock timeout) and both land."""
    root = copy_package(tmp_path / "pkg")
    batches = []
    for n in range(2):
        records = [event(title=f"Concurrent batch {n} event {k}", sources=[dict(NEW["sources"][0], url=f"https://www.caixinglobal.com/b{n}/{k}")],
                         figures=[]) for k in range(20)]
        path = tmp_path / f"batch{n}.json"
        path.write_text(json.dumps(records), encoding="utf-8")
        batches.append(path)
    env = {**os.environ, "INFOCONTROLS_LOCK_TIMEOUT": "120"}
    procs = [subprocess.Popen([sys.executable, "-m", "infocontrols.cli", "add", str(b), str(root), "--accessed-on", "2026-11-28"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for b in batches]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    titles = (root / "data" / "events.csv").read_text(encoding="utf-8")
    for n in range(2):
        assert all(f"Concurrent batch {n} event {k}," in titles for k in range(20)), f"batch {n} lost"
    assert cli("build", root).returncode == 0 and cli("validate", root).returncode == 0


def test_two_adds_with_a_short_timeout_never_claim_what_did_not_happen(tmp_path):
    """With the default timeout one may be turned away; whatever each says is what happened."""
    root = copy_package(tmp_path / "pkg")
    paths = []
    for n in range(2):
        path = tmp_path / f"batch{n}.json"
        path.write_text(json.dumps([event(title=f"Racing batch {n}", sources=[dict(NEW["sources"][0], url=f"https://www.caixinglobal.com/race/{n}")],
                                          figures=[])]), encoding="utf-8")
        paths.append(path)
    env = {**os.environ, "INFOCONTROLS_LOCK_TIMEOUT": "0.05"}
    procs = [subprocess.Popen([sys.executable, "-m", "infocontrols.cli", "add", str(p), str(root), "--accessed-on", "2026-11-28"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in paths]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    titles = (root / "data" / "events.csv").read_text(encoding="utf-8")
    for n, (code, out, err) in enumerate(outcomes):
        if code == 0:
            assert f"Racing batch {n}," in titles and "added 1 event(s)" in out
        else:
            assert code == 2 and "another infocontrols command is writing this package" in err
            assert f"Racing batch {n}," not in titles
    assert any(code == 0 for code, _, _ in outcomes)


def test_validate_rereads_a_package_replaced_while_it_reads(package, monkeypatch):
    """A writer replaces events.csv after validate has read it: validate reads it all again."""
    from infocontrols.validation import validate_package

    reads = []
    real_read = storage.read_bytes
    events = package.path("events")
    changed = events.read_bytes().replace(b",confirmed,", b",certain,", 1)

    def read_then_write(root, relative, **kwargs):
        data = real_read(root, relative, **kwargs)
        reads.append(relative)
        if relative == "data/sources.csv" and reads.count(relative) == 1:
            storage.write_files(root, {"data/events.csv": changed})  # another command, mid-validation
        return data

    monkeypatch.setattr(storage, "read_bytes", read_then_write)
    report = validate_package(package.root)
    assert reads.count("data/events.csv") == 2, "the first reading mixed two states, so it was repeated"
    assert any(f.rule == "VOC001" and f.value == "certain" for f in report.findings), "the report is of the new state"


def test_validate_gives_up_on_a_package_that_keeps_changing(package, monkeypatch):
    from infocontrols.contract import ContractError
    from infocontrols.validation import validate_package

    real_read = storage.read_bytes
    events = package.path("events")

    def read_then_touch(root, relative, **kwargs):
        data = real_read(root, relative, **kwargs)
        if relative == "data/sources.csv":
            storage.write_files(root, {"data/events.csv": events.read_bytes()})
        return data

    monkeypatch.setattr(storage, "read_bytes", read_then_touch)
    with pytest.raises(ContractError, match="kept changing while it was being validated"):
        validate_package(package.root)


def test_build_check_rereads_a_package_replaced_while_it_reads(package, monkeypatch):
    from infocontrols.build import build

    reads = []
    real_read = storage.read_bytes
    events = package.path("events").read_bytes()
    first_title = events.split(b"\n")[1].split(b",")[1]
    changed = events.replace(first_title, first_title + b" (retitled)", 1)

    def read_then_write(root, relative, **kwargs):
        data = real_read(root, relative, **kwargs)
        reads.append(relative)
        if relative == "data/sources.csv" and reads.count(relative) == 1:
            storage.write_files(root, {"data/events.csv": changed})  # another command, after events.csv was read
        return data

    monkeypatch.setattr(storage, "read_bytes", read_then_write)
    stale = build(package.root, check=True)
    per_pass = 2  # validation, then the Parquet bytes
    assert reads.count("data/events.csv") == 2 * per_pass, "the first pass mixed two states, so it was repeated"
    assert "data/events.parquet" in stale
