"""The one reader and the one writer (src/infocontrols/storage.py): bounded reads of regular
files only, writes that are all or nothing however they are interrupted, one writer at a time."""
from __future__ import annotations

import errno
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infocontrols import storage

from conftest import files_of

FILES = {"data/a.csv": 3, "data/b.csv": 5, "schema/c.json": 1, "README.md": 2}
NEW_FILES = {"docs/new.md": 1}  # a file, in a folder, that does not exist yet


def make_package(root: Path) -> Path:
    for rel, n in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(f"old {rel}\n".encode() * n)
    return root


def new_contents() -> dict[str, bytes]:
    return {rel: f"new {rel}\n".encode() * (n + 1000) for rel, n in {**FILES, **NEW_FILES}.items()}


WRITER = """
import sys
from infocontrols import storage
files = {rel: f"new {rel}\\n".encode() * (n + 1000) for rel, n in %r.items()}
storage.write_files(sys.argv[1], files)
""" % ({**FILES, **NEW_FILES},)

NEXT_COMMAND = "import sys; from infocontrols import storage; storage.ensure_complete(sys.argv[1])"


def run_python(code: str, root: Path, env: dict | None = None, **kwargs):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60, env=full_env, **kwargs)


def expected_after(tmp_path: Path) -> dict[str, bytes]:
    after = make_package(tmp_path / "reference")
    storage.write_files(after, new_contents())
    return {str(p.relative_to(after)): b for p, b in files_of(after).items()}


def state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): b for p, b in files_of(root).items()}


# --------------------------------------------------------------- reading
def test_reads_a_regular_file(tmp_path):
    root = make_package(tmp_path)
    assert storage.read_bytes(root, "data/a.csv") == b"old data/a.csv\n" * 3
    assert storage.read_text(root, "./schema/c.json") == "old schema/c.json\n"


@pytest.mark.parametrize("make, kind", [
    (lambda p: p.symlink_to("/etc/hostname"), "a symbolic link"),
    (lambda p: p.symlink_to("/dev/zero"), "a symbolic link"),
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.mkdir(), "a folder"),
])
def test_refuses_what_is_not_a_regular_file(tmp_path, make, kind):
    root = make_package(tmp_path)
    target = root / "data" / "a.csv"
    target.unlink()
    make(target)
    with pytest.raises(storage.NotARegularFile, match=f"data/a.csv: is {kind}"):
        storage.read_bytes(root, "data/a.csv")


def test_refuses_a_device(tmp_path):
    root = make_package(tmp_path)
    target = root / "data" / "a.csv"
    target.unlink()
    try:
        os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero
    except PermissionError:
        pytest.skip("cannot make a device node here")
    with pytest.raises(storage.NotARegularFile, match="is a device"):
        storage.read_bytes(root, "data/a.csv")


def test_refuses_a_linked_folder_on_the_way(tmp_path):
    root = make_package(tmp_path / "pkg")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.csv").write_text("secret\n")
    (root / "data" / "a.csv").unlink()
    (root / "data").rename(root / "data-real")
    (root / "data").symlink_to(outside)
    with pytest.raises(storage.NotARegularFile, match="data is a symbolic link, not a folder inside the package"):
        storage.read_bytes(root, "data/a.csv")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "data/../../x", "", "a\\b"])
def test_refuses_paths_that_leave_the_package(tmp_path, path):
    with pytest.raises(storage.StorageError, match="not a relative path inside the package"):
        storage.read_bytes(make_package(tmp_path), path)


def test_size_limit_names_the_file(tmp_path):
    root = make_package(tmp_path)
    with pytest.raises(storage.FileTooLarge, match=r"data/b.csv: is 75 bytes; the limit for this file is 10 bytes"):
        storage.read_bytes(root, "data/b.csv", limit=10)


def test_a_fifo_never_blocks_a_reader(tmp_path):
    """Run in a subprocess with a timeout: a blocking open would hang the test, not fail it."""
    root = make_package(tmp_path)
    (root / "data" / "a.csv").unlink()
    os.mkfifo(root / "data" / "a.csv")
    code = "import sys; from infocontrols import storage\ntry: storage.read_bytes(sys.argv[1], 'data/a.csv')\nexcept storage.NotARegularFile as e: print(e)"
    result = run_python(code, root)
    assert "is a FIFO" in result.stdout


def test_watch_reads_sees_a_replaced_file(tmp_path):
    root = make_package(tmp_path)
    with storage.watch_reads() as reads:
        storage.read_bytes(root, "data/a.csv")
        storage.read_bytes(root, "data/b.csv")
    assert reads.changed() == []
    storage.write_files(root, {"data/b.csv": b"changed\n"})
    assert [Path(p).name for p in reads.changed()] == ["b.csv"]
    with storage.watch_reads() as reads:
        storage.read_bytes(root, "data/a.csv")
        storage.write_files(root, {"data/a.csv": b"changed\n"})
        storage.read_bytes(root, "data/a.csv")  # now as it is on disk, but read before in another state
    assert [Path(p).name for p in reads.changed()] == ["a.csv"]


def test_overlay_serves_candidate_bytes(tmp_path):
    root = make_package(tmp_path)
    with storage.overlay(root, {"data/a.csv": b"candidate\n"}):
        assert storage.read_bytes(root, "data/a.csv") == b"candidate\n"
        assert storage.read_bytes(root, "data/b.csv").startswith(b"old")
    assert storage.read_bytes(root, "data/a.csv").startswith(b"old")


# --------------------------------------------------------------- writing
def test_write_replaces_every_file_and_keeps_modes(tmp_path):
    root = make_package(tmp_path)
    (root / "data" / "a.csv").chmod(0o640)
    (root / "README.md").chmod(0o604)
    old_umask = os.umask(0o027)
    try:
        written = storage.write_files(root, new_contents())
    finally:
        os.umask(old_umask)
    assert sorted(written) == sorted({**FILES, **NEW_FILES})
    assert state(root) == {rel: data for rel, data in new_contents().items()}
    assert stat.S_IMODE((root / "data" / "a.csv").stat().st_mode) == 0o640
    assert stat.S_IMODE((root / "README.md").stat().st_mode) == 0o604
    assert stat.S_IMODE((root / "docs" / "new.md").stat().st_mode) == 0o640, "new: 0666 & ~umask, never mkstemp's 0600"
    assert not list(root.rglob(".infocontrols-tmp-*")) and not (root / storage.JOURNAL_NAME).exists()


@pytest.mark.parametrize("make", [
    lambda p, outside: p.symlink_to(outside),
    lambda p, outside: os.mkfifo(p),
    lambda p, outside: p.mkdir(),
])
def test_never_writes_through_a_link_or_into_a_special_file(tmp_path, make):
    root = make_package(tmp_path / "pkg")
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (root / "data" / "a.csv").unlink()
    make(root / "data" / "a.csv", outside)
    before = state(root) if not (root / "data" / "a.csv").is_fifo() else None
    with pytest.raises(storage.NotARegularFile, match="nothing was written"):
        storage.write_files(root, new_contents())
    assert outside.read_text() == "precious\n"
    if before is not None:
        assert state(root) == before


def test_never_writes_through_a_linked_folder(tmp_path):
    root = make_package(tmp_path / "pkg")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "schema" / "c.json").unlink()
    (root / "schema").rmdir()
    (root / "schema").symlink_to(outside)
    with pytest.raises(storage.NotARegularFile, match="schema is a symbolic link"):
        storage.write_files(root, new_contents())
    assert list(outside.iterdir()) == []
    assert (root / "data" / "a.csv").read_bytes().startswith(b"old")


def test_an_error_before_the_commit_changes_nothing(tmp_path, monkeypatch):
    root = make_package(tmp_path)
    before = state(root)
    real_write_all = storage._write_all
    calls = {"n": 0}

    def disk_full_on_third(fd, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(fd, data)

    monkeypatch.setattr(storage, "_write_all", disk_full_on_third)
    with pytest.raises(storage.StorageError, match="nothing was written: cannot write the file: no space left on device"):
        storage.write_files(root, new_contents())
    assert state(root) == before, "no file changed, no temporary left"


def test_an_error_after_the_commit_is_completed_by_the_next_command(tmp_path, monkeypatch):
    root = make_package(tmp_path)
    real_replace = os.replace
    calls = {"n": 0}

    def fails_after_two(src, dst, **kwargs):
        if JOURNAL_RENAME(src, dst):
            return real_replace(src, dst, **kwargs)
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", fails_after_two)
    with pytest.raises(storage.IncompleteWrite, match="the change was committed but could not be completed"):
        storage.write_files(root, new_contents())
    assert (root / storage.JOURNAL_NAME).exists()
    monkeypatch.setattr(os, "replace", real_replace)
    assert run_python(NEXT_COMMAND, root).returncode == 0
    assert state(root) == new_contents()


def JOURNAL_RENAME(src, dst) -> bool:
    return dst == storage.JOURNAL_NAME


def test_an_io_error_from_the_file_size_limit_changes_nothing(tmp_path):
    """`ulimit -f`: the writer cannot grow a file past 4 KiB; every file stays as it was."""
    import resource

    root = make_package(tmp_path)
    before = state(root)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = run_python(WRITER, root, preexec_fn=limit)
    assert result.returncode == 1 and "nothing was written: cannot write the file: file too large" in result.stderr
    assert state(root) == before


# --------------------------------------------------------------- killed at every step
def kill_points() -> list[str]:
    n = len(FILES) + len(NEW_FILES)
    return [f"temp:{k}" for k in range(1, n + 1)] + ["journal:1"] + [f"replace:{k}" for k in range(1, n + 1)]


@pytest.mark.slow  # writers killed in subprocesses
@pytest.mark.parametrize("point", kill_points())
def test_a_writer_killed_at_any_step_leaves_old_or_new(tmp_path, point):
    after = expected_after(tmp_path)
    root = make_package(tmp_path / "pkg")
    before = state(root)
    killed = run_python(WRITER, root, env={"INFOCONTROLS_TEST_KILL": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The next command (any command: they all call ensure_complete first) settles it.
    assert run_python(NEXT_COMMAND, root).returncode == 0
    now = state(root)
    assert now == (before if point.startswith("temp") else after), f"killed at {point}: neither the old nor the new state"
    assert not list(root.rglob(".infocontrols-tmp-*")) and not (root / storage.JOURNAL_NAME).exists()


@pytest.mark.slow  # a recovery killed in a subprocess
def test_a_recovery_killed_midway_is_completed_by_the_next(tmp_path):
    after = expected_after(tmp_path)
    root = make_package(tmp_path / "pkg")
    assert run_python(WRITER, root, env={"INFOCONTROLS_TEST_KILL": "replace:1"}).returncode == -signal.SIGKILL
    assert run_python(NEXT_COMMAND, root, env={"INFOCONTROLS_TEST_KILL": "recover:2"}).returncode == -signal.SIGKILL
    assert run_python(NEXT_COMMAND, root).returncode == 0
    assert state(root) == after


@pytest.mark.slow  # writers killed in subprocesses
def test_killed_at_random_moments_the_files_always_agree(tmp_path):
    """A writer flips five 2 MB files between two versions; killed at random, it never leaves a mix."""
    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    flipper = (
        "import sys\nfrom infocontrols import storage\n"
        "names = [f'data/t{i}.csv' for i in range(5)]\n"
        "for n in range(10**6):\n"
        "    storage.write_files(sys.argv[1], {name: (b'AB'[n % 2:n % 2 + 1] * (2 << 20)) for name in names})\n"
    )
    rng = random.Random(10)
    for trial in range(8):
        proc = subprocess.Popen([sys.executable, "-c", flipper, str(root)], stderr=subprocess.PIPE)
        time.sleep(0.4 + rng.random() * 0.6)  # timing here is the experiment, not synchronisation
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert run_python(NEXT_COMMAND, root).returncode == 0
        contents = {p.read_bytes()[:1] for p in (root / "data").glob("t*.csv")}
        sizes = {p.stat().st_size for p in (root / "data").glob("t*.csv")}
        assert len(contents) <= 1 and sizes <= {2 << 20}, f"trial {trial}: files disagree: {contents}"
        assert not list(root.rglob(".infocontrols-tmp-*"))


# --------------------------------------------------------------- the lock
@pytest.mark.slow  # a second writer in a subprocess
def test_the_lock_refuses_a_second_writer_with_a_clear_message(tmp_path):
    root = make_package(tmp_path)
    with storage.package_lock(root):
        result = run_python(WRITER, root, env={"INFOCONTROLS_LOCK_TIMEOUT": "0.2"})
    assert result.returncode == 1
    assert f"another infocontrols command is writing this package (process {os.getpid()} holds .infocontrols.lock); try again when it finishes" in result.stderr
    assert state(root)["data/a.csv"].startswith(b"old")


def test_the_lock_is_reentrant_and_released(tmp_path):
    root = make_package(tmp_path)
    with storage.package_lock(root):
        with storage.package_lock(root):
            storage.write_files(root, {"data/a.csv": b"x\n"})
    assert run_python(WRITER, root).returncode == 0


def test_a_linked_lock_file_is_refused(tmp_path):
    root = make_package(tmp_path / "pkg")
    (root / storage.LOCK_NAME).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(storage.NotARegularFile, match="is a symbolic link"):
        storage.write_files(root, {"data/a.csv": b"x\n"})
    assert not (tmp_path / "elsewhere").exists()


def test_a_damaged_journal_is_reported_not_followed(tmp_path):
    root = make_package(tmp_path)
    (root / storage.JOURNAL_NAME).write_text('{"replace": [[".infocontrols-tmp-x", "../../etc/passwd"]]}')
    result = run_python(NEXT_COMMAND, root)
    assert result.returncode == 1 and "is not a journal infocontrols wrote" in result.stderr


def test_stale_temporaries_are_cleaned_by_the_next_command(tmp_path):
    root = make_package(tmp_path)
    for folder in ("", "data", "schema"):
        (root / folder / f"{storage.TEMP_PREFIX}0123abcd").write_bytes(b"")
    assert run_python(NEXT_COMMAND, root).returncode == 0
    assert not list(root.rglob(".infocontrols-tmp-*"))


# --------------------------------------------------------------- remembered hashes
def test_a_hash_is_remembered_until_the_file_changes(tmp_path, monkeypatch):
    import hashlib

    root = make_package(tmp_path / "pkg")
    monkeypatch.setenv("INFOCONTROLS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(storage, "_HASHES", None)
    path = root / "data" / "a.csv"
    old = path.read_bytes()
    monkeypatch.setattr(storage, "RACY_NS", -10**12)  # as if the file were long settled
    assert storage.sha256_of(root, "data/a.csv") == (hashlib.sha256(old).hexdigest(), len(old))
    assert (tmp_path / "cache" / "hashes.json").exists()
    monkeypatch.setattr(storage, "_HASHES", None)  # a new process reads the cache file
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    assert storage.sha256_of(root, "data/a.csv")[0] == hashlib.sha256(old).hexdigest()
    assert reads == [], "a remembered hash is not recomputed"
    # Same size, and even the old mtime put back: the ctime still moves, so it is hashed again.
    stat_before = path.stat()
    path.write_bytes(old.replace(b"old", b"new"))
    os.utime(path, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert storage.sha256_of(root, "data/a.csv")[0] == hashlib.sha256(old.replace(b"old", b"new")).hexdigest()


def test_a_recently_changed_file_is_not_remembered(tmp_path, monkeypatch):
    root = make_package(tmp_path / "pkg")
    monkeypatch.setenv("INFOCONTROLS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(storage, "_HASHES", None)
    storage.sha256_of(root, "data/a.csv")  # written a moment ago: could change again within the tick
    assert not (tmp_path / "cache" / "hashes.json").exists()


# --------------------------------------------------------------- where folders cannot be opened (Windows)
@pytest.mark.parametrize("make, message", [
    (lambda p, tmp: None, None),
    (lambda p, tmp: (p.unlink(), p.symlink_to("/dev/zero")), "data/a.csv: is a symbolic link"),
    (lambda p, tmp: (p.unlink(), os.mkfifo(p)), "data/a.csv: is a FIFO"),
    (lambda p, tmp: (p.unlink(), p.parent.rename(tmp / "moved"), p.parent.symlink_to(tmp / "moved")), "data is a symbolic link, not a folder"),
])
def test_the_reader_without_folder_descriptors_refuses_the_same(tmp_path, monkeypatch, make, message):
    monkeypatch.setattr(storage, "POSIX_SAFE", False)
    root = make_package(tmp_path / "pkg")
    make(root / "data" / "a.csv", tmp_path)
    if message is None:
        assert storage.read_bytes(root, "data/a.csv") == b"old data/a.csv\n" * 3
    else:
        with pytest.raises(storage.NotARegularFile, match=message):
            storage.read_bytes(root, "data/a.csv")


def test_without_posix_locks_writing_is_refused_and_nothing_written(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "POSIX_SAFE", False)
    root = make_package(tmp_path)
    before = state(root)
    with pytest.raises(storage.StorageError, match="writing a package needs a POSIX system"):
        storage.write_files(root, new_contents())
    assert state(root) == before
