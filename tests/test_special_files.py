"""Links, FIFOs, devices and folders inside the package: found, named, never followed, never
waited on. Every command runs in a subprocess with a timeout, so a hang fails the test."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import files_of
from test_importer import NEW

pytestmark = pytest.mark.slow  # every command in a subprocess against links, FIFOs and devices


COMMANDS = {
    "validate": lambda root, tmp: ["validate", root, "--format", "json"],
    "build --check": lambda root, tmp: ["build", root, "--check"],
    "info": lambda root, tmp: ["info", root],
    "add": lambda root, tmp: ["add", tmp / "events.json", root, "--accessed-on", "2026-11-28"],
}


def cli(args, timeout=60):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def replace_with(path: Path, kind: str, target: Path | None = None) -> None:
    path.unlink()
    if kind == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "link to a secret":
        path.symlink_to(target)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
        except PermissionError:
            pytest.skip("cannot make a device node here")


@pytest.mark.parametrize("kind", ["link to /dev/zero", "FIFO", "folder", "device"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_hangs_or_reads_a_special_file(package, tmp_path, kind, command):
    (tmp_path / "events.json").write_text(json.dumps([NEW]), encoding="utf-8")
    replace_with(package.path("figures"), kind)
    result = cli(COMMANDS[command](package.root, tmp_path))  # a hang or an out-of-memory read fails here
    assert "Traceback" not in result.stderr
    if command == "validate":
        assert result.returncode == 1
        [hit] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "STR011"]
        assert hit["file"] == "data/figures.csv" and "package files must be regular files inside the package" in hit["message"]
    elif command == "info":
        assert result.returncode == 0 and "figures" in result.stdout
    else:  # build refuses an invalid package (exit 1); add refuses to write into it (exit 2)
        assert result.returncode == (1 if command.startswith("build") else 2)
        assert "data/figures.csv" in result.stdout + result.stderr and "STR011" in result.stdout + result.stderr


def test_a_link_to_a_secret_is_never_printed(package, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("figure_id,event_id\nhunter2-secret-token\n", encoding="utf-8")
    replace_with(package.path("figures"), "link to a secret", secret)
    for fmt in ("github", "text", "json"):
        result = cli(["validate", package.root, "--format", fmt])
        assert result.returncode == 1 and "hunter2" not in result.stdout + result.stderr
        assert "STR011" in result.stdout


def test_add_never_writes_through_a_link(package, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(package.path("events").read_bytes())
    replace_with(package.path("events"), "link to a secret", outside)
    original = outside.read_bytes()
    (tmp_path / "events.json").write_text(json.dumps([NEW]), encoding="utf-8")
    before = files_of(package.root)
    result = cli(COMMANDS["add"](package.root, tmp_path))
    assert result.returncode == 2 and "nothing was added" in result.stderr and "is a symbolic link" in result.stderr
    assert outside.read_bytes() == original and files_of(package.root) == before


def test_a_linked_data_folder_is_refused(package, tmp_path):
    import shutil

    real = tmp_path / "real-data"
    shutil.move(str(package.root / "data"), real)
    (package.root / "data").symlink_to(real)
    result = cli(["validate", package.root, "--format", "json"])
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "STR011"]
    assert result.returncode == 1 and len(findings) >= 9
    assert all("data is a symbolic link, not a folder inside the package" in f["message"] for f in findings)


@pytest.mark.parametrize("name", ["datapackage.json", "schema/events.json"])
def test_a_folder_or_fifo_where_the_descriptor_or_a_schema_should_be_is_finding_desc001(package, name):
    for kind in ("folder", "FIFO"):
        path = package.root / name
        if path.is_dir():
            path.rmdir()
            path.write_text("{}")
        replace_with(path, kind)
        result = cli(["validate", package.root, "--format", "json"])
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        [hit] = json.loads(result.stdout)["findings"]
        assert (hit["rule"], hit["file"], hit["line"]) == ("DESC001", name, 0)
        assert f"{name}: is a {'folder' if kind == 'folder' else 'FIFO'}" in hit["message"]


def test_a_table_over_the_size_limit_is_a_finding(package, monkeypatch):
    from infocontrols import storage

    monkeypatch.setattr(storage, "MAX_TABLE_BYTES", 50_000)
    report = package.validate()
    big = {f.file: f.message for f in report.by_rule("STR011")}
    assert "data/events.csv" in big and "the limit for this file is 48.8 KiB" in big["data/events.csv"]
    sizes = {table.path: (package.root / table.path).stat().st_size for table in package.contract.tables.values()}
    assert {path for path, size in sizes.items() if size > 50_000} == set(big)


def test_a_schema_over_the_size_limit_is_finding_desc001(package):
    schema = package.root / "schema" / "events.json"
    data = json.loads(schema.read_text(encoding="utf-8"))
    data["description"] = "x" * (17 * 1024 * 1024)
    schema.write_text(json.dumps(data), encoding="utf-8")
    result = cli(["validate", package.root, "--format", "json"])
    assert result.returncode == 1, result.stderr
    [hit] = json.loads(result.stdout)["findings"]
    assert (hit["rule"], hit["file"]) == ("DESC001", "schema/events.json")
    assert "schema/events.json: is 17.0 MiB; the limit for this file is 16.0 MiB" in hit["message"]
