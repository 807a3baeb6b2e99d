"""The contributor's path of CONTRIBUTING.md, driven through the installed command line:
copy the example, dry-run it, make two mistakes, fix each from its message alone, add, see the
diff, build and validate clean. Nothing here reads the package's code; only the CLI's output."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, copy_package, files_of

EXAMPLE = ROOT / "docs" / "examples" / "add-event.json"
# git as a contributor's machine might be set up, minus anything global that could get in the way.
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "c", "GIT_AUTHOR_EMAIL": "c@example.org",
           "GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@example.org"}


def infocontrols(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``infocontrols ARGS`` as CONTRIBUTING says to run it after set-up (the installed script)."""
    script = Path(sys.executable).with_name("infocontrols")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "infocontrols.cli"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=GIT_ENV)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=GIT_ENV)


def test_a_contributor_adds_the_example_fixes_two_mistakes_from_the_messages_and_validates(tmp_path):
    clone = copy_package(tmp_path / "clone")
    git(clone, "init", "-q", "-b", "main")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "the package as cloned")
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    title = example[0]["title"]

    # 1. The example as it stands: a dry run names the new event and writes nothing.
    before = files_of(clone)
    dry = infocontrols(clone, "add", str(EXAMPLE), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    new_event = re.search(r"\+ (ev-[a-z0-9-]+)", dry.stdout).group(1)
    assert "nothing was written" in dry.stdout
    assert files_of(clone) == before

    # 2. The contributor's own file, with two typical mistakes.
    mine = dict(example[0])
    mine["control_domian"] = mine.pop("control_domain")
    mine["date_start"] = mine["date_start"].replace("-", "/")
    path = tmp_path / "my_event.json"
    path.write_text(json.dumps([mine], ensure_ascii=False, indent=2), encoding="utf-8")

    first = infocontrols(clone, "add", str(path))
    assert first.returncode == 2
    assert files_of(clone) == before, "a refused add wrote something"
    # The message names the file and the JSON path, never a CSV line, and says what to write.
    assert "my_event.json: events[0].control_domian: unknown key" in first.stderr
    assert not re.search(r"data/\w+\.csv:\d+", first.stderr)
    suggested = re.search(r"did you mean '(\w+)'\?", first.stderr).group(1)
    mine[suggested] = mine.pop("control_domian")
    path.write_text(json.dumps([mine], ensure_ascii=False, indent=2), encoding="utf-8")

    second = infocontrols(clone, "add", str(path))
    assert second.returncode == 2
    assert files_of(clone) == before
    assert "my_event.json: events[0].date_start:" in second.stderr
    assert not re.search(r"data/\w+\.csv:\d+", second.stderr)
    assert "YYYY-MM-DD" in second.stderr  # the form to write it in
    mine["date_start"] = mine["date_start"].replace("/", "-")
    path.write_text(json.dumps([mine], ensure_ascii=False, indent=2), encoding="utf-8")

    added = infocontrols(clone, "add", str(path))
    assert added.returncode == 0, added.stderr
    assert new_event in added.stdout  # the ID the dry run announced

    # 3. The diff against the commit shows the new records, as the pull request summary will.
    diff = infocontrols(clone, "diff", "HEAD", ".", "--format", "json")
    assert diff.returncode == 0, diff.stderr
    changes = json.loads(diff.stdout)
    text = json.dumps(changes)
    assert new_event in text
    plain = infocontrols(clone, "diff", "HEAD", ".")
    assert re.search(r"events: 1 added", plain.stdout), plain.stdout

    # 4. Build the generated files, then a clean validate, with the event in the data.
    built = infocontrols(clone, "build", ".")
    assert built.returncode == 0, built.stderr
    valid = infocontrols(clone, "validate", ".")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.strip().splitlines()[-1].startswith("valid: 0 errors")
    # the package's standing warnings (copies of unknown origin, HOST003) may be listed; none is about this event
    assert new_event not in valid.stdout and "so-silicon-republic" not in valid.stdout
    events_csv = (clone / "data" / "events.csv").read_text(encoding="utf-8")
    assert new_event in events_csv and title in events_csv


def test_the_example_input_is_not_already_in_the_package():
    """The example must add something, or the contributor's first dry run teaches nothing."""
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    sources_csv = (ROOT / "data" / "sources.csv").read_text(encoding="utf-8")
    events_csv = (ROOT / "data" / "events.csv").read_text(encoding="utf-8")
    assert all(event["title"] not in events_csv for event in example)
    assert all(source["url"] not in sources_csv for event in example for source in event["sources"])
