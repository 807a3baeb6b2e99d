"""The one reader and the one writer of package files, and the lock that orders writers.

Every command reads package files through :func:`read_bytes` and writes them through
:func:`write_files`; nothing else opens them. The guarantees (see docs/guarantees.md):

* **Reads stay inside the package.** A file is read only if it is a regular file reached
  from the package folder through real directories: every component is opened with
  ``O_NOFOLLOW`` relative to its parent, the file is checked with ``lstat`` before it is
  opened (without following links, without blocking on a FIFO) and with ``fstat`` after.
  Symbolic links, FIFOs, devices, sockets and folders are refused with
  :class:`NotARegularFile`; a file over its size limit with :class:`FileTooLarge`.
* **Writes are all or nothing across files**, as SQLite's rollback journal is, in the
  other direction: every new file is written to a temporary in its own folder and
  fsynced; then a journal naming the (temporary, target) pairs is fsynced and renamed into
  place, which is the commit point; then the temporaries are renamed over their targets,
  the folders fsynced and the journal deleted. A crash before the commit point leaves the
  old files (and temporaries that the next command deletes); a crash after it leaves a
  journal that the next command rolls forward before it reads anything. Files keep their
  mode (new ones get ``0o666 & ~umask``), and nothing is ever written through a link.
* **One writer at a time.** :func:`package_lock` takes an exclusive ``flock`` on
  ``.infocontrols.lock`` in the package folder, waiting at most a couple of seconds, and
  every command that writes holds it for its whole read-check-write cycle.

Readers take no lock: files are only ever replaced whole, by rename, so a reader sees each
file either old or new. :func:`watch_reads` tells a reader whether any file it read was
replaced while it was reading, so that it can read again rather than mix two states.

This module imports nothing else of ours and only the standard library.

Example:
    >>> from infocontrols import storage
    >>> data = storage.read_bytes(".", "data/events.csv")          # doctest: +SKIP
    >>> with storage.package_lock("."):                              # doctest: +SKIP
    ...     storage.write_files(".", {"data/events.csv": data})
    ['data/events.csv']
"""
from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import json
import os
import secrets
import signal
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping

try:
    import fcntl
except ImportError:  # Windows: reading works (see _open_regular_by_path); writing needs POSIX
    fcntl = None

MAX_TABLE_BYTES = 2 * 1024**3      # a CSV or Parquet table
MAX_JSON_BYTES = 16 * 1024**2      # a schema, the descriptor, the journal
MAX_TEXT_BYTES = 16 * 1024**2      # README.md, CONTRIBUTING.md and other generated text
MAX_INPUT_BYTES = 512 * 1024**2    # a file of records given to `infocontrols add`

_MAX_READ = 0x7FFFF000            # the most Linux returns from one read()

LOCK_NAME = ".infocontrols.lock"
JOURNAL_NAME = ".infocontrols-journal.json"
TEMP_PREFIX = ".infocontrols-tmp-"
LOCK_TIMEOUT = 2.0                 # seconds a writer waits for another to finish
SCAN_DEPTH = 3                     # folders below the root searched for stale temporaries

_O = {name: getattr(os, name, 0) for name in ("O_DIRECTORY", "O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC", "O_BINARY")}
_DIR_FLAGS = os.O_RDONLY | _O["O_DIRECTORY"] | _O["O_NOFOLLOW"] | _O["O_CLOEXEC"]
_READ_FLAGS = os.O_RDONLY | _O["O_NOFOLLOW"] | _O["O_NONBLOCK"] | _O["O_CLOEXEC"] | _O["O_BINARY"]
# Opening relative to a folder's descriptor is what makes a path safe from links swapped in on
# the way; where the system cannot (Windows), reads check each component by path instead.
POSIX_SAFE = fcntl is not None and {os.open, os.stat, os.unlink, os.mkdir} <= os.supports_dir_fd


# ---------------------------------------------------------------- errors
class StorageError(Exception):
    """A package file cannot be read or written; the message names the file."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


class MissingFile(StorageError):
    """The file does not exist."""


class NotARegularFile(StorageError):
    """A link, FIFO, device, socket or folder where a regular file should be."""


class FileTooLarge(StorageError):
    """The file is over the size limit for its kind."""


class PackageBusy(StorageError):
    """Another command holds the package lock."""


class IncompleteWrite(StorageError):
    """A write was committed but could not be completed; the next command completes it."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"


def _os_message(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EFBIG:
        return "file too large for the file system or the file size limit"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return exc.strerror or str(exc)


# ---------------------------------------------------------------- paths
def _parts(relative: str | os.PathLike) -> list[str]:
    """The components of a package-relative POSIX path; refuses anything that could leave it."""
    text = os.fspath(relative)
    if not text or "\\" in text or "\x00" in text or text.startswith("/"):
        raise StorageError(text or "''", "not a relative path inside the package")
    parts = [p for p in PurePosixPath(text).parts if p != "."]
    if not parts or ".." in parts:
        raise StorageError(text, "not a relative path inside the package ('..' is not allowed)")
    return parts


def _open_root(root: str | os.PathLike) -> int:
    """A descriptor of the package folder itself (which may be reached through links)."""
    try:
        return os.open(os.fspath(root), os.O_RDONLY | _O["O_DIRECTORY"] | _O["O_CLOEXEC"])
    except FileNotFoundError:
        raise MissingFile(os.fspath(root), "no such package folder") from None
    except NotADirectoryError:
        raise NotARegularFile(os.fspath(root), "is not a folder") from None
    except OSError as exc:
        raise StorageError(os.fspath(root), f"cannot open the package folder: {_os_message(exc)}") from None


def _open_parent(root_fd: int, parts: list[str], relative: str, *, create: bool = False) -> int:
    """A descriptor of the folder holding ``parts[-1]``, each component a real folder."""
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts[:-1]):
            where = "/".join(parts[: depth + 1])
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise MissingFile(relative, f"folder {where}/ does not exist") from None
                try:
                    os.mkdir(name, 0o777, dir_fd=fd)
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise StorageError(relative, f"cannot create folder {where}/: {_os_message(exc)}") from None
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    try:
                        mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
                    except OSError:
                        mode = 0
                    raise NotARegularFile(relative, f"{where} is {_kind(mode)}, not a folder inside the package") from None
                raise StorageError(relative, f"cannot open folder {where}/: {_os_message(exc)}") from None
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _lstat_regular(dir_fd: int, name: str, relative: str) -> os.stat_result:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise MissingFile(relative, "file not found") from None
    except OSError as exc:
        raise StorageError(relative, f"cannot read file: {_os_message(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFile(relative, f"is {_kind(st.st_mode)}; package files must be regular files inside the package")
    return st


# ---------------------------------------------------------------- reading
_watch: contextvars.ContextVar[dict | None] = contextvars.ContextVar("infocontrols_watch", default=None)
_overlay: contextvars.ContextVar[tuple[str, Mapping[str, bytes]] | None] = contextvars.ContextVar("infocontrols_overlay", default=None)


def _key(root: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(root))


def _identity(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def _open_regular(root: str | os.PathLike, relative: str, limit: int) -> Iterator[tuple[int, os.stat_result]]:
    if not POSIX_SAFE:
        with _open_regular_by_path(root, relative, limit) as opened:
            yield opened
        return
    parts = _parts(relative)
    rel = "/".join(parts)
    root_fd = _open_root(root)
    try:
        dir_fd = _open_parent(root_fd, parts, rel)
    finally:
        os.close(root_fd)
    try:
        _lstat_regular(dir_fd, parts[-1], rel)  # before opening: never open a FIFO or device
        try:
            fd = os.open(parts[-1], _READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            raise MissingFile(rel, "file not found") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # replaced by a link between lstat and open
                raise NotARegularFile(rel, "is a symbolic link; package files must be regular files inside the package") from None
            raise StorageError(rel, f"cannot read file: {_os_message(exc)}") from None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(rel, f"is {_kind(st.st_mode)}; package files must be regular files inside the package")
        if st.st_size > limit:
            raise FileTooLarge(rel, f"is {_size_text(st.st_size)}; the limit for this file is {_size_text(limit)}")
        yield fd, st
    finally:
        os.close(fd)


@contextlib.contextmanager
def _open_regular_by_path(root: str | os.PathLike, relative: str, limit: int) -> Iterator[tuple[int, os.stat_result]]:
    """The same checks by path, for systems that cannot open relative to a folder (Windows)."""
    parts = _parts(relative)
    rel = "/".join(parts)
    base = os.fspath(root)
    if not os.path.isdir(base):
        raise MissingFile(base, "no such package folder")
    current = base
    for depth, name in enumerate(parts):
        current = os.path.join(current, name)
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            raise MissingFile(rel, "file not found" if depth == len(parts) - 1 else f"folder {'/'.join(parts[:depth + 1])}/ does not exist") from None
        except OSError as exc:
            raise StorageError(rel, f"cannot read file: {_os_message(exc)}") from None
        if depth < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise NotARegularFile(rel, f"{'/'.join(parts[:depth + 1])} is {_kind(mode)}, not a folder inside the package")
        if depth == len(parts) - 1 and not stat.S_ISREG(mode):
            raise NotARegularFile(rel, f"is {_kind(mode)}; package files must be regular files inside the package")
    try:
        fd = os.open(current, _READ_FLAGS)
    except OSError as exc:
        raise StorageError(rel, f"cannot read file: {_os_message(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(rel, f"is {_kind(st.st_mode)}; package files must be regular files inside the package")
        if st.st_size > limit:
            raise FileTooLarge(rel, f"is {_size_text(st.st_size)}; the limit for this file is {_size_text(limit)}")
        yield fd, st
    finally:
        os.close(fd)


def read_bytes(root: str | os.PathLike, relative: str, *, limit: int = MAX_TABLE_BYTES) -> bytes:
    """The bytes of the regular file ``relative`` inside the package at ``root``.

    Raises :class:`MissingFile`, :class:`NotARegularFile` (link, FIFO, device, folder, or a
    link among the folders on the way), :class:`FileTooLarge` or :class:`StorageError`;
    never blocks on a FIFO and never reads more than ``limit`` bytes.

    Example:
        >>> read_bytes(repo_root, "schema/events.json", limit=MAX_JSON_BYTES)[:1]   # doctest: +SKIP
        b'{'
    """
    overlay = _overlay.get()
    if overlay is not None and overlay[0] == _key(root):
        rel = "/".join(_parts(relative))
        if rel in overlay[1]:
            data = overlay[1][rel]
            if len(data) > limit:
                raise FileTooLarge(rel, f"is {_size_text(len(data))}; the limit for this file is {_size_text(limit)}")
            return data
    with _open_regular(root, relative, limit) as (fd, st):
        # One read of the size fstat gave (plus a byte, to see growth) is one allocation and no
        # copy; a file that grew or a short read continues in chunks, still bounded by ``limit``.
        chunks = [os.read(fd, min(st.st_size + 1, limit + 1, _MAX_READ))]
        total = len(chunks[0])
        while chunks[-1] and total <= limit:
            chunks.append(os.read(fd, min(1 << 24, limit + 1 - total)))
            total += len(chunks[-1])
        if total > limit:
            raise FileTooLarge(relative, f"grew past the limit for this file ({_size_text(limit)}) while being read")
        watched = _watch.get()
        if watched is not None:
            path, identity = os.path.join(_key(root), relative), _identity(st)
            # A file read twice in two states is a change even if it stays as it is now.
            watched[path] = identity if watched.get(path, identity) == identity else ("read in two states",)
    parts = [c for c in chunks if c]
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_text(root: str | os.PathLike, relative: str, *, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a package file, read as :func:`read_bytes` reads it.

    Example:
        >>> read_text(repo_root, "README.md").startswith("# InfoControls")     # doctest: +SKIP
        True
    """
    data = read_bytes(root, relative, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StorageError(relative, f"is not valid UTF-8 (byte {exc.start:,})") from None


def file_identity(root: str | os.PathLike, relative: str) -> tuple:
    """(device, inode, size, mtime_ns) of a regular package file, without reading it.

    Example:
        >>> file_identity(repo_root, "data/events.csv")[2] > 0                    # doctest: +SKIP
        True
    """
    with _open_regular(root, relative, MAX_TABLE_BYTES) as (_, st):
        return _identity(st)


RACY_NS = 2_000_000_000  # a file changed less than this long ago may change again unseen
HASH_CACHE_ENTRIES = 512


def _hash_cache_file() -> Path | None:
    """Where verified hashes are remembered between processes: INFOCONTROLS_CACHE_DIR (empty
    turns it off), else $XDG_CACHE_HOME/infocontrols, else ~/.cache/infocontrols."""
    folder = os.environ.get("INFOCONTROLS_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "infocontrols")
    return Path(folder, "hashes.json") if folder else None


_HASHES: dict[str, list] | None = None  # path -> [dev, ino, size, mtime_ns, ctime_ns, sha256]


def _hash_cache() -> dict[str, list]:
    global _HASHES
    if _HASHES is None:
        _HASHES = {}
        path = _hash_cache_file()
        try:
            loaded = json.loads(path.read_text(encoding="utf-8")) if path else {}
            if isinstance(loaded, dict):
                _HASHES = {k: v for k, v in loaded.items() if isinstance(v, list) and len(v) == 6}
        except (OSError, ValueError):
            pass
    return _HASHES


def _remember_hash(key: str, entry: list) -> None:
    cache = _hash_cache()
    cache[key] = entry
    while len(cache) > HASH_CACHE_ENTRIES:
        cache.pop(next(iter(cache)))
    path = _hash_cache_file()
    if path is None:
        return
    temp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}")
    try:  # a cache: any failure to keep it only costs a hash next time
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(cache), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()


def sha256_of(root: str | os.PathLike, relative: str, *, limit: int = MAX_TABLE_BYTES) -> tuple[str, int]:
    """(hex sha256, size) of a regular package file, streamed; remembered as git's index does.

    A file whose device, inode, size, mtime and ctime are those it had when it was last
    hashed is not hashed again (any write, and any change of mtime, moves its ctime). Only a
    file last changed more than :data:`RACY_NS` before it was hashed is remembered, since
    a change within the same clock tick would leave every timestamp as it was. Hashes are
    kept between processes in a small cache file (see :func:`_hash_cache_file`).

    Example:
        >>> sha256_of(repo_root, "data/events.csv")[0][:8]                        # doctest: +SKIP
        '3f1c9a2e'
    """
    with _open_regular(root, relative, limit) as (fd, st):
        key = os.path.join(_key(root), relative)
        identity = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        known = _hash_cache().get(key)
        if known is not None and known[:5] == identity:
            return known[5], st.st_size
        digest, total = hashlib.sha256(), 0
        while True:
            chunk = os.read(fd, 1 << 22)
            if not chunk:
                break
            digest.update(chunk)
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(relative, f"grew past the limit for this file ({_size_text(limit)}) while being read")
        after = os.fstat(fd)
    hexdigest = digest.hexdigest()
    unchanged = [after.st_size, after.st_mtime_ns, after.st_ctime_ns] == [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    if unchanged and time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS:
        _remember_hash(key, [*identity, hexdigest])
    return hexdigest, total


def read_input(path: str | os.PathLike, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of an input file a user named on the command line (not a package file).

    The user chose this path, so links are followed and pipes are read, but never more than
    ``limit`` bytes, and a folder is refused.

    Example:
        >>> read_input("my_events.json")[:1]                                       # doctest: +SKIP
        b'['
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            if stat.S_ISDIR(os.fstat(handle.fileno()).st_mode):
                raise NotARegularFile(name, "is a folder, not a file")
            chunks, total = [], 0
            while total <= limit:  # in chunks: never allocate the whole limit for a small file
                chunk = handle.read(min(1 << 24, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            data = b"".join(chunks)
    except IsADirectoryError:
        raise NotARegularFile(name, "is a folder, not a file") from None
    except FileNotFoundError:
        raise MissingFile(name, "file not found") from None
    except OSError as exc:
        raise StorageError(name, f"cannot read file: {_os_message(exc)}") from None
    if len(data) > limit:
        raise FileTooLarge(name, f"is larger than the limit for an input file ({_size_text(limit)})")
    return data


@dataclass
class Reads:
    """The files read inside one :func:`watch_reads` block, with their identities."""

    files: dict[str, tuple] = field(default_factory=dict)

    def changed(self) -> list[str]:
        """Files replaced, changed or removed since they were read (absolute paths)."""
        out = []
        for path, identity in self.files.items():
            try:
                now = _identity(os.stat(path, follow_symlinks=False))
            except OSError:
                now = None
            if now != identity:
                out.append(path)
        return out


@contextlib.contextmanager
def watch_reads() -> Iterator[Reads]:
    """Record every package file read in this block, to check later that none was replaced.

    Example:
        >>> with watch_reads() as reads:                                            # doctest: +SKIP
        ...     report = validate_contract(contract)
        >>> reads.changed()                                                          # doctest: +SKIP
        []
    """
    reads = Reads()
    token = _watch.set(reads.files)
    try:
        yield reads
    finally:
        _watch.reset(token)


@contextlib.contextmanager
def overlay(root: str | os.PathLike, files: Mapping[str, bytes]) -> Iterator[None]:
    """Within this block, reads of ``files`` under ``root`` return the given bytes.

    This is how `add` validates the state it is about to write with the very rules and
    reader that `validate` uses, before writing anything.

    Example:
        >>> with overlay(root, {"data/events.csv": candidate}):                     # doctest: +SKIP
        ...     report = validate_contract(contract)
    """
    token = _overlay.set((_key(root), {"/".join(_parts(k)): v for k, v in files.items()}))
    try:
        yield
    finally:
        _overlay.reset(token)


# ---------------------------------------------------------------- test hooks
def _fault(point: str) -> None:
    """Crash on purpose where a test asks to (``INFOCONTROLS_TEST_KILL=point:n``).

    Points: ``temp`` (after the n-th temporary is written), ``journal`` (after the commit),
    ``replace`` (after the n-th rename), ``recover`` (after the n-th rename of a recovery).
    ``INFOCONTROLS_TEST_FAIL=replace:n`` raises an I/O error instead of the n-th rename (and
    ``recover:n`` instead of the n-th rename of a recovery); several are separated by commas.
    """
    spec = os.environ.get("INFOCONTROLS_TEST_KILL", "")
    if spec:
        name, _, count = spec.partition(":")
        if name == point:
            _FAULT_COUNTS[point] = _FAULT_COUNTS.get(point, 0) + 1
            if _FAULT_COUNTS[point] == int(count or 1):
                os.kill(os.getpid(), signal.SIGKILL)


def _should_fail(point: str) -> bool:
    """Whether a test asks for an I/O error here (``INFOCONTROLS_TEST_FAIL=replace:2,recover:1``)."""
    for spec in os.environ.get("INFOCONTROLS_TEST_FAIL", "").split(","):
        name, _, count = spec.partition(":")
        if spec and name == point:
            key = "fail-" + point
            _FAULT_COUNTS[key] = _FAULT_COUNTS.get(key, 0) + 1
            return _FAULT_COUNTS[key] == int(count or 1)
    return False


_FAULT_COUNTS: dict[str, int] = {}


def _hold_for_test() -> None:
    """With ``INFOCONTROLS_TEST_HOLD_LOCK=DIR``: once locked, touch DIR/locked, wait for DIR/release."""
    folder = os.environ.get("INFOCONTROLS_TEST_HOLD_LOCK")
    if not folder:
        return
    Path(folder, "locked").touch()
    deadline = time.monotonic() + 120
    while not Path(folder, "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)


# ---------------------------------------------------------------- the lock
_HELD: dict[str, int] = {}


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("INFOCONTROLS_LOCK_TIMEOUT", LOCK_TIMEOUT))
    except ValueError:
        return LOCK_TIMEOUT


@contextlib.contextmanager
def package_lock(root: str | os.PathLike, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the package's write lock for the block; complete any interrupted write first.

    Waits at most ``timeout`` seconds (default :data:`LOCK_TIMEOUT`) for another command to
    finish, then raises :class:`PackageBusy`. Re-entrant within a process.

    Example:
        >>> with package_lock("."):                                                  # doctest: +SKIP
        ...     ...   # read, check and write: no other infocontrols command writes meanwhile
    """
    key = _key(root)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    if not POSIX_SAFE:
        raise StorageError(os.fspath(root), "writing a package needs a POSIX system (Linux, macOS, or WSL on Windows); nothing was written")
    root_fd = _open_root(root)
    try:
        fd = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | _O["O_NOFOLLOW"] | _O["O_CLOEXEC"], 0o666, dir_fd=root_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotARegularFile(LOCK_NAME, "is a symbolic link; remove it") from None
        raise StorageError(LOCK_NAME, f"cannot create the lock file in {os.fspath(root)}: {_os_message(exc)}") from None
    finally:
        os.close(root_fd)
    try:
        deadline = time.monotonic() + (_lock_timeout() if timeout is None else timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    who = f"process {holder}" if holder.isdigit() else "another process"
                    raise PackageBusy(
                        os.fspath(root),
                        f"another infocontrols command is writing this package ({who} holds {LOCK_NAME}); "
                        "try again when it finishes",
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = 1
        try:
            _hold_for_test()
            recover(root)
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# ---------------------------------------------------------------- writing
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[: 1 << 24])
        view = view[written:]


def _fsync_dir(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot fsync a folder; the renames still hold
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise


def _temp_name() -> str:
    return f"{TEMP_PREFIX}{secrets.token_hex(8)}"


def _write_temp(dir_fd: int, data: bytes, mode: int) -> str:
    name = _temp_name()
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O["O_NOFOLLOW"] | _O["O_CLOEXEC"], 0o600, dir_fd=dir_fd)
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode)  # the mode the file would normally get, not 0600
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
        raise
    os.close(fd)
    return name


def write_files(root: str | os.PathLike, files: Mapping[str, bytes]) -> list[str]:
    """Replace ``files`` (package-relative path -> bytes) all or nothing; return their paths.

    Takes the package lock if this process does not hold it already. On an error before
    the commit point nothing is changed and :class:`StorageError` says so; after it, the
    change is completed now or by the next command (:class:`IncompleteWrite`).

    Example:
        >>> write_files(".", {"data/events.csv": b"event_id,...\\n", "README.md": b"..."})  # doctest: +SKIP
        ['data/events.csv', 'README.md']
    """
    if not files:
        return []
    with package_lock(root):
        return _write_locked(root, files)


def _write_locked(root: str | os.PathLike, files: Mapping[str, bytes]) -> list[str]:
    targets = {"/".join(_parts(rel)): data for rel, data in files.items()}
    if JOURNAL_NAME in targets or LOCK_NAME in targets:
        raise StorageError(JOURNAL_NAME, "is reserved for infocontrols itself")
    umask = _umask()
    root_fd = _open_root(root)
    dirs: dict[str, int] = {}
    temps: list[tuple[str, str, str]] = []  # (folder, temporary name, target path)
    try:
        # 1. Check every target, then write every temporary: nothing visible changes yet.
        plan = []
        for rel in targets:
            parts = rel.split("/")
            folder = "/".join(parts[:-1])
            if folder not in dirs:
                dirs[folder] = _open_parent(root_fd, parts, rel, create=True)
            try:
                st = os.stat(parts[-1], dir_fd=dirs[folder], follow_symlinks=False)
            except FileNotFoundError:
                mode = 0o666 & ~umask
            except OSError as exc:
                raise StorageError(rel, f"nothing was written: cannot check the file: {_os_message(exc)}") from None
            else:
                if not stat.S_ISREG(st.st_mode):
                    raise NotARegularFile(rel, f"nothing was written: the file is {_kind(st.st_mode)}; infocontrols never writes through links or into special files")
                mode = stat.S_IMODE(st.st_mode)
            plan.append((rel, folder, parts[-1], mode))
        for rel, folder, _, mode in plan:
            try:
                temps.append((folder, _write_temp(dirs[folder], targets[rel], mode), rel))
            except OSError as exc:
                raise StorageError(rel, f"nothing was written: cannot write the file: {_os_message(exc)}") from None
            _fault("temp")
        # 2. The commit point: the journal, fsynced and renamed into place.
        journal = {"infocontrols-journal": 1, "replace": [[f"{f}/{t}" if f else t, rel] for f, t, rel in temps]}
        try:
            name = _write_temp(root_fd, (json.dumps(journal, indent=1) + "\n").encode(), 0o644 & ~umask)
            try:
                os.replace(name, JOURNAL_NAME, src_dir_fd=root_fd, dst_dir_fd=root_fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=root_fd)
                raise
        except OSError as exc:
            raise StorageError(JOURNAL_NAME, f"nothing was written: cannot write the journal: {_os_message(exc)}") from None
        temps_committed, temps[:] = list(temps), []
        _fault("journal")
        # 3. Apply: every rename, then the folders, then the journal goes. From here on the
        # change is committed: an error is completed now or by the next command.
        try:
            _fsync_dir(root_fd)  # the journal's name is durable before any target changes
            for folder, temp, rel in temps_committed:
                if _should_fail("replace"):
                    raise OSError(errno.EIO, "Input/output error (simulated)")
                os.replace(temp, rel.split("/")[-1], src_dir_fd=dirs[folder], dst_dir_fd=dirs[folder])
                _fault("replace")
            for fd in dirs.values():
                _fsync_dir(fd)
            os.unlink(JOURNAL_NAME, dir_fd=root_fd)
            _fsync_dir(root_fd)
        except OSError as first:
            try:
                recover(root)
            except (OSError, StorageError) as exc:
                raise IncompleteWrite(
                    JOURNAL_NAME,
                    f"the change was committed but could not be completed ({_os_message(first)}; then {exc}); "
                    "the next infocontrols command with write access completes it",
                ) from None
        return list(targets)
    finally:
        for folder, temp, _ in temps:  # only temporaries that were never committed
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dirs[folder])
        for fd in dirs.values():
            os.close(fd)
        os.close(root_fd)


# ---------------------------------------------------------------- recovery
def _journal_pairs(root: str | os.PathLike) -> list[tuple[list[str], list[str]]] | None:
    try:
        data = read_bytes(root, JOURNAL_NAME, limit=MAX_JSON_BYTES)
    except MissingFile:
        return None
    try:
        journal = json.loads(data)
        pairs = journal["replace"]
        out = []
        for temp, target in pairs:
            temp_parts, target_parts = _parts(temp), _parts(target)
            if not temp_parts[-1].startswith(TEMP_PREFIX) or temp_parts[:-1] != target_parts[:-1]:
                raise ValueError(f"{temp} -> {target}")
            out.append((temp_parts, target_parts))
        return out
    except (ValueError, KeyError, TypeError, StorageError) as exc:
        raise StorageError(
            JOURNAL_NAME,
            f"is not a journal infocontrols wrote ({exc}); move it away after checking the package by hand",
        ) from None


def _stale_temps(root: str | os.PathLike) -> list[tuple[str, str]]:
    """(folder, name) of every temporary of ours in the package, down to SCAN_DEPTH folders."""
    out: list[tuple[str, str]] = []
    pending = [("", 0)]
    base = os.fspath(root)
    while pending:
        folder, depth = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(base, folder) if folder else base))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                out.append((folder, entry.name))
            elif depth < SCAN_DEPTH and not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                pending.append((f"{folder}/{entry.name}" if folder else entry.name, depth + 1))
    return out


def recover(root: str | os.PathLike) -> list[str]:
    """Complete an interrupted write and delete stale temporaries; the lock must be held.

    Returns the files the journal replaced. Safe to repeat: a recovery that is itself
    interrupted is completed by the next one.

    Example:
        >>> with package_lock("."):                                                  # doctest: +SKIP
        ...     pass      # package_lock has already called recover(".")
    """
    if _key(root) not in _HELD:
        raise RuntimeError("recover() needs the package lock")
    replaced = []
    pairs = _journal_pairs(root)
    root_fd = _open_root(root)
    try:
        if pairs is not None:
            dirs: dict[str, int] = {}
            try:
                for temp_parts, target_parts in pairs:
                    folder = "/".join(target_parts[:-1])
                    target = "/".join(target_parts)
                    if folder not in dirs:
                        dirs[folder] = _open_parent(root_fd, target_parts, target)
                    try:
                        os.stat(temp_parts[-1], dir_fd=dirs[folder], follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # renamed before the interruption
                    try:
                        st = os.stat(target_parts[-1], dir_fd=dirs[folder], follow_symlinks=False)
                        if not stat.S_ISREG(st.st_mode):
                            raise NotARegularFile(target, f"is {_kind(st.st_mode)}; cannot complete the interrupted write")
                    except FileNotFoundError:
                        pass
                    if _should_fail("recover"):
                        raise OSError(errno.EIO, "Input/output error (simulated)")
                    os.replace(temp_parts[-1], target_parts[-1], src_dir_fd=dirs[folder], dst_dir_fd=dirs[folder])
                    replaced.append(target)
                    _fault("recover")
                for fd in dirs.values():
                    _fsync_dir(fd)
            except OSError as exc:
                raise StorageError(JOURNAL_NAME, f"cannot complete the interrupted write: {_os_message(exc)}") from None
            finally:
                for fd in dirs.values():
                    os.close(fd)
            os.unlink(JOURNAL_NAME, dir_fd=root_fd)
            _fsync_dir(root_fd)
        for folder, name in _stale_temps(root):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(os.fspath(root), folder, name))
    finally:
        os.close(root_fd)
    return replaced


def ensure_complete(root: str | os.PathLike) -> None:
    """Before reading: complete an interrupted write, as SQLite readers roll back a hot journal.

    Costs a few directory listings when there is nothing to do. Raises :class:`StorageError`
    if a journal is there and cannot be completed (no write access, or a writer holds the
    lock past the timeout).

    Example:
        >>> ensure_complete(".")                                                     # doctest: +SKIP
    """
    if _key(root) in _HELD:
        return
    base = os.fspath(root)
    has_journal = os.path.lexists(os.path.join(base, JOURNAL_NAME))
    if not has_journal and not _stale_temps(root):
        return
    try:
        with package_lock(root, timeout=None if has_journal else 0):
            pass  # taking the lock recovers
    except PackageBusy:
        if has_journal:
            raise
        # A writer is working: its temporaries are its own, and readers never read them.
    except StorageError as exc:
        if has_journal:
            raise StorageError(
                JOURNAL_NAME,
                f"an interrupted write must be completed before this package can be read, and it cannot be: {exc.reason}; "
                "run `infocontrols build` with write access to the package folder",
            ) from None


__all__ = [
    "MAX_TABLE_BYTES", "MAX_JSON_BYTES", "MAX_TEXT_BYTES", "MAX_INPUT_BYTES",
    "StorageError", "MissingFile", "NotARegularFile", "FileTooLarge", "PackageBusy", "IncompleteWrite",
    "read_bytes", "read_text", "read_input", "file_identity", "sha256_of", "watch_reads", "overlay",
    "package_lock", "write_files", "recover", "ensure_complete",
]
