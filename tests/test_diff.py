"""`infocontrols diff`: record-level changes between package folders and git revisions."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import Package, copy_package, git
from infocontrols.diff import DiffError, diff_versions

pytestmark = pytest.mark.slow  # git revisions and the CLI in subprocesses


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def pair(tmp_path):
    """An old package and a new copy of it that a test edits."""
    old = Package(copy_package(tmp_path / "old"))
    new = Package(copy_package(tmp_path / "new"))
    return old, new


def edit_every_kind(pkg: Package) -> dict:
    """Add, change, remove, retire and rename one record each; return what was done."""
    events = pkg.rows("events")
    head = events[0]
    renamed_old = events[1][0]
    renamed_new = renamed_old + "-renamed"
    changed, retired, removed_actor = events[2][0], events[3][0], pkg.rows("actors")[1][0]
    events[2][head.index("title")] = "A corrected title"
    added = list(events[4])
    added[0] = "ev-2099-01-01-new-event"
    events = [events[0], added] + [r for r in events[1:] if r[0] not in (retired,)]
    for row in events:
        if row[0] == renamed_old:
            row[0] = renamed_new
    pkg.write_rows("events", events)
    for table in ("event_sources", "event_actors", "event_measures", "figures"):
        rows = pkg.rows(table)
        column = rows[0].index("event_id")
        kept = [rows[0]] + [r for r in rows[1:] if r[column] != retired]
        for r in kept[1:]:
            if r[column] == renamed_old:
                r[column] = renamed_new
        pkg.write_rows(table, kept)
    actors = pkg.rows("actors")
    pkg.write_rows("actors", [r for r in actors if r[0] != removed_actor])
    retired_rows = pkg.rows("retired_ids")
    retired_rows += [[renamed_old, renamed_new, "2026-12-02", "renamed"], [retired, "", "2026-12-02", "a duplicate"]]
    pkg.write_rows("retired_ids", retired_rows)
    return {"renamed": (renamed_old, renamed_new), "changed": changed, "retired": retired, "added": added[0], "removed": removed_actor}


def test_every_kind_of_change_between_folders(pair):
    old, new = pair
    done = edit_every_kind(new)
    changes = diff_versions(str(old.root), str(new.root))
    events = next(t for t in changes.tables if t.table == "events")
    assert [r["event_id"] for r in events.added] == [done["added"]]
    assert [c["key"]["event_id"] for c in events.changed] == [done["changed"]]
    assert events.changed[0]["fields"]["title"][1] == "A corrected title"
    renames = [(r["id"], r["replaced_by"]) for r in events.retired if r["replaced_by"]]
    assert renames == [done["renamed"]]
    assert [r["id"] for r in events.retired if not r["replaced_by"]] == [done["retired"]]
    assert events.removed == []
    actors = next(t for t in changes.tables if t.table == "actors")
    assert [r["actor_id"] for r in actors.removed] == [done["removed"]]
    # a rename done right moves its links with it: they do not show as removed and added
    links = next(t for t in changes.tables if t.table == "event_sources")
    assert all(r["event_id"] == done["retired"] for r in links.removed)
    assert not any(r["event_id"] == done["renamed"][1] for r in links.added)


def test_text_markdown_and_json_agree(pair):
    old, new = pair
    done = edit_every_kind(new)
    text = cli("diff", str(old.root), str(new.root))
    assert text.returncode == 0, text.stderr
    assert f"  ~ {done['renamed'][0]} -> {done['renamed'][1]} (renamed: renamed)" in text.stdout
    assert f"  - {done['removed']} (removed without retirement)" in text.stdout
    assert "      title: " in text.stdout and "-> A corrected title" in text.stdout
    markdown = cli("diff", str(old.root), str(new.root), "--format", "markdown").stdout
    assert "| `events` | 1 | 1 | 1 | 1 | 0 |" in markdown
    assert "**removed without retirement**" in markdown
    data = json.loads(cli("diff", str(old.root), str(new.root), "--format", "json").stdout)
    assert data["counts"]["events"] == {"added": 1, "changed": 1, "renamed": 1, "retired": 1, "removed": 0}
    assert data["counts"]["actors"]["removed"] == 1


def test_no_change(pair):
    old, new = pair
    result = cli("diff", str(old.root), str(new.root))
    assert result.returncode == 0 and "no record changed" in result.stdout


def test_revision_against_working_tree(tmp_path):
    repo = Package(copy_package(tmp_path / "repo"))
    git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "base")
    repo.set_cell("events", 0, "title", "Edited after the commit")
    result = cli("diff", "HEAD", ".", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert "events: 1 changed" in result.stdout
    # the default old version is the merge base with main
    assert cli("diff", cwd=repo.root).stdout == result.stdout.replace("HEAD -> .", f"{_head(repo.root)} -> .")


def _head(repo):
    return git(repo, "rev-parse", "HEAD").stdout.strip()


NEITHER = "is neither a package folder nor a git revision"


@pytest.mark.parametrize("bad, cli_message", [
    ("--output={out}", "unrecognized arguments: --output="),  # on the command line argparse refuses it first
    ("no-such-revision", NEITHER),
    ("../../etc", NEITHER),
])
def test_a_version_that_is_neither_folder_nor_revision_exits_2(pair, bad, cli_message, tmp_path):
    old, _ = pair
    out = tmp_path / "x"
    bad = bad.format(out=out)
    result = cli("diff", bad, str(old.root), "--repo", str(old.root))
    assert result.returncode == 2 and cli_message in result.stderr, result.stderr
    # called directly, diff itself refuses it, and never hands it to git as an option
    with pytest.raises(DiffError, match=NEITHER):
        diff_versions(bad, str(old.root), repo=old.root)
    assert not out.exists()
