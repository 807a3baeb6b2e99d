"""Release assets (zip, SQLite, croissant.json, SHA256SUMS), the tag and CHANGELOG checks, record counts."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import sqlite3
import subprocess
import sys
import zipfile

import pytest

import infocontrols as ic
from infocontrols.contract import Contract
from infocontrols.release import (
    ReleaseError, TableChanges, changes_markdown, check_release, package_files, record_changes, release_assets, zip_bytes,
)

from conftest import ROOT, arrow_rows, git

CONTRACT = Contract.from_descriptor(ROOT)


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_zip_holds_the_whole_package_with_the_same_bytes_every_time():
    data = zip_bytes(CONTRACT)
    assert data == zip_bytes(CONTRACT)
    archive = zipfile.ZipFile(io.BytesIO(data))
    folder = f"infocontrols-{ic.__version__}/"
    names = archive.namelist()
    assert names == [folder + name for name in package_files(CONTRACT)]
    for table in CONTRACT.tables.values():
        assert archive.read(folder + table.path) == (ROOT / table.path).read_bytes()
        assert folder + f"data/{table.name}.parquet" in names
    for needed in ("datapackage.json", "croissant.json", "CITATION.cff", "LICENSE", "docs/codebook.md"):
        assert folder + needed in names


def test_the_unzipped_package_loads_and_validates(tmp_path):
    zipfile.ZipFile(io.BytesIO(zip_bytes(CONTRACT))).extractall(tmp_path)
    root = tmp_path / f"infocontrols-{ic.__version__}"
    assert len(ic.load("events", root=root)) == len(arrow_rows("events"))
    assert ic.validate(root).ok


def test_release_assets_are_written_with_their_checksums(tmp_path):
    written = release_assets(tmp_path / "dist", root=ROOT, tag=f"v{ic.__version__}")
    names = [p.name for p in written]
    stem = f"infocontrols-{ic.__version__}"
    assert names == [f"{stem}.zip", f"{stem}.sqlite", "croissant.json", "SHA256SUMS"]
    sums = dict(reversed(line.split("  ")) for line in (tmp_path / "dist" / "SHA256SUMS").read_text().splitlines())
    for path in written[:-1]:
        assert sums[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "dist" / "croissant.json").read_bytes() == (ROOT / "croissant.json").read_bytes()
    with sqlite3.connect(written[1]) as db:
        assert dict(db.execute("SELECT key, value FROM package_info"))["version"] == ic.__version__


def test_a_tag_that_is_not_the_version_is_refused(tmp_path):
    with pytest.raises(ReleaseError, match="does not match the package version"):
        release_assets(tmp_path, root=ROOT, tag="v999.0.0")
    assert list(tmp_path.iterdir()) == []
    result = run_cli("release", "assets", str(tmp_path), "--tag", "v999.0.0", "--package-dir", str(ROOT))
    assert result.returncode == 2 and "tag 'v999.0.0'" in result.stderr and "Traceback" not in result.stderr


def test_a_version_without_a_changelog_section_is_refused():
    bumped = dataclasses.replace(CONTRACT, metadata={**CONTRACT.metadata, "version": "999.0.0"})
    with pytest.raises(ReleaseError, match=r"CHANGELOG.md has no '## \[999.0.0\]' section"):
        check_release(bumped, "v999.0.0")
    check_release(CONTRACT, f"v{ic.__version__}")  # the current version has its section


@pytest.mark.slow  # git revisions
def test_record_changes_counts_added_changed_and_removed_since_a_tag(tmp_path, package):
    root = package.root
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    package.set_cell("events", 3, "title", "A corrected title")
    figures = package.rows("figures")
    package.write_rows("figures", figures[:1] + figures[3:])  # two figures removed
    sources = package.rows("sources")
    copy = list(sources[1])
    copy[0] = "so-zzz-new-source"
    package.write_rows("sources", sources + [copy])
    changes = {c.table: c for c in record_changes("v1", root=root)}
    assert changes["events"] == TableChanges("events", 0, 1, 0)
    assert changes["figures"] == TableChanges("figures", 0, 0, 2)
    assert changes["sources"] == TableChanges("sources", 1, 0, 0)
    assert not changes["actors"].any
    result = run_cli("release", "changes", "--since", "v1", "--package-dir", str(root))
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["Records since v1:", "- events: 0 added, 1 changed, 0 removed",
                                          "- sources: 1 added, 0 changed, 0 removed", "- figures: 0 added, 0 changed, 2 removed"]
    unknown = run_cli("release", "changes", "--since", "no-such-tag", "--package-dir", str(root))
    assert unknown.returncode == 2 and "no-such-tag" in unknown.stderr and "Traceback" not in unknown.stderr


def test_changes_markdown_says_when_nothing_changed():
    assert changes_markdown([TableChanges("events", 0, 0, 0)], "v1") == "Records since v1:\n- no record changed"


def test_cli_export_zip(tmp_path):
    result = run_cli("export", "zip", str(tmp_path / "p.zip"), "--package-dir", str(ROOT))
    assert result.returncode == 0 and (tmp_path / "p.zip").read_bytes() == zip_bytes(CONTRACT)


def test_release_workflow_runs_the_tests_and_attaches_the_assets():
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert "tags:" in workflow and "v*" in workflow
    assert ".venv/bin/python -m pytest -q" in workflow  # and before the assets: tests/test_readme.py
    assert "infocontrols release assets dist --tag" in workflow
    for asset in ("dist/*.zip", "dist/*.sqlite", "dist/croissant.json", "dist/SHA256SUMS"):
        assert asset in workflow


@pytest.mark.slow  # git revisions
def test_record_changes_counts_a_rename_through_retired_ids_as_the_diff_does(tmp_path, package):
    root = package.root
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    old_id = package.cell("figures", 0, "figure_id")
    package.set_cell("figures", 0, "figure_id", old_id + "-renamed")
    retired = package.rows("retired_ids")
    retired.append([old_id, old_id + "-renamed", "2026-12-02", "renamed in a test"])
    package.write_rows("retired_ids", retired)
    changes = {c.table: c for c in record_changes("v1", root=root)}
    assert changes["figures"] == TableChanges("figures", 0, 0, 0, renamed=1)
    assert "- figures: 0 added, 0 changed, 0 removed, 1 renamed" in changes_markdown(list(changes.values()), "v1")
