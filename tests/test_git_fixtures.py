"""The tests' own git repositories do not depend on the git configuration of whoever runs them."""
from __future__ import annotations

import shutil
import subprocess

from conftest import commit_all, git


def test_git_fixtures_ignore_a_hostile_user_configuration(tmp_path, monkeypatch):
    # A configuration that breaks a naive `git commit` in several ways at once.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'hook ran' >&2\nexit 1\n", encoding="utf-8")
    (hooks / "pre-commit").chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tuseConfigOnly = true\n"          # no name or e-mail: commits are refused
        "[commit]\n\tgpgsign = true\n"               # sign with a program that always fails
        "[gpg]\n\tprogram = false\n"
        "[init]\n\tdefaultBranch = trunk\n"
        f"[core]\n\thooksPath = {hooks}\n\tautocrlf = true\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("HOME", str(home))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "table.csv").write_bytes(b"id,name\na,b\n")

    # The configuration is really hostile: plain git, as a test might have called it, fails.
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, capture_output=True)
    naive = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x"],
                           capture_output=True, text=True)
    assert naive.returncode != 0
    shutil.rmtree(repo / ".git")

    commit_all(repo)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "main"
    assert git(repo, "log", "--format=%an <%ae>").stdout.strip() == "InfoControls tests <tests@example.org>"
    assert git(repo, "cat-file", "-p", "HEAD").stdout.count("gpgsig") == 0
    assert git(repo, "show", "HEAD:table.csv").stdout == "id,name\na,b\n"
    (repo / "table.csv").unlink()
    git(repo, "checkout", "--", "table.csv")
    assert (repo / "table.csv").read_bytes() == b"id,name\na,b\n", "checked out with LF, not CRLF"
