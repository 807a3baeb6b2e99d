"""The command line: ``infocontrols validate | build | add | info | export | serve | release``.

Exit status: 0 success (warnings allowed), 1 invalid or stale, 2 could not run.
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
import sys
from pathlib import Path

from . import progress
from .contract import ContractError
from .storage import IncompleteWrite, StorageError


def _validate(args: argparse.Namespace) -> int:
    from .validation import BaselineError, validate_package
    from .validation.report import FORMATS

    today = dt.date.fromisoformat(args.today) if args.today else None
    try:
        report = validate_package(Path(args.package_dir), today=today, baseline=args.baseline)
    except (ContractError, BaselineError, StorageError) as exc:
        print(f"infocontrols validate: cannot run: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(FORMATS[args.format](report))
    return 0 if report.ok else 1


def _build(args: argparse.Namespace) -> int:
    from .build import BuildError, build, check_outputs

    try:
        changed = check_outputs(Path(args.package_dir)) if args.check else build(Path(args.package_dir))
    except (ContractError, StorageError) as exc:
        print(f"infocontrols build: cannot run: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"infocontrols build: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if changed:
            print("stale generated files (run `infocontrols build`):")
            for rel, reason in changed.items():
                print(f"  {rel}: {reason}")
            return 1
        print("all generated files are up to date")
        return 0
    print(f"wrote {len(changed)} file(s)" + "".join(f"\n  {rel}" for rel in changed))
    return 0


def _info(args: argparse.Namespace) -> int:
    from .contract import Contract, DESCRIPTOR
    from .info import summary_text

    root = Path(args.package_dir)
    try:
        contract = Contract.from_descriptor(root) if os.path.lexists(root / DESCRIPTOR) else Contract.from_source(root)
        text = summary_text(contract)
    except (ContractError, StorageError) as exc:
        print(f"infocontrols info: cannot run: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


def _add(args: argparse.Namespace) -> int:
    from .importer import AddError, add_events_from_file

    def refuse(lines: list[str]) -> int:
        for line in lines:
            print(f"infocontrols add: {line}", file=sys.stderr)
        return 2

    try:
        added = add_events_from_file(Path(args.package_dir), Path(args.events_json), args.accessed_on, dry_run=args.dry_run)
    except AddError as exc:
        count = len(exc.problems)
        return refuse(str(exc).splitlines() + [f"nothing was added ({count} problem{'s' if count != 1 else ''})"])
    except IncompleteWrite as exc:
        return refuse([f"the events were added, but the write was interrupted after its commit point: {exc}"])
    except (ContractError, StorageError) as exc:
        return refuse([f"nothing was added: {exc}"])
    if not added.written:
        print(f"dry run: nothing was written; `infocontrols add` would add {len(added.event_ids)} event(s) and change:")
        for path in added.files:
            print(f"  {path}")
        for table, keys in added.new.items():
            print(f"new in {table} ({len(keys)}):" + "".join(f"\n  + {k}" for k in keys))
        for table, keys in added.reused.items():
            print(f"reused from {table} ({len(keys)}):" + "".join(f"\n  = {k}" for k in keys))
        for warning in added.warnings:
            print(f"warning: {warning}")
        return 0
    print(f"added {len(added.event_ids)} event(s):" + "".join(f"\n  {event_id}" for event_id in added.event_ids))
    for warning in added.warnings:
        print(f"warning: {warning}")
    print("next: infocontrols diff (see what changed), infocontrols build (it refreshes the Parquet files and datapackage.json), then open a pull request")
    return 0


def _fmt(args: argparse.Namespace) -> int:
    from .fmt import format_package

    try:
        result = format_package(Path(args.package_dir), check=args.check)
    except (ContractError, StorageError) as exc:
        print(f"infocontrols fmt: cannot run: {exc}", file=sys.stderr)
        return 2
    for path, reason in sorted(result.refused.items()):
        print(f"infocontrols fmt: {path}: left as it is: {reason}", file=sys.stderr)
    if args.check:
        if result.changed:
            print("not in canonical form (run `infocontrols fmt`):" + "".join(f"\n  {p}" for p in result.changed))
        else:
            print("every table is in canonical form" if not result.refused else "the other tables are in canonical form")
        return 1 if result.changed or result.refused else 0
    if result.changed:
        print(f"formatted {len(result.changed)} file(s):" + "".join(f"\n  {p}" for p in result.changed))
    else:
        print("every table was already in canonical form")
    return 1 if result.refused else 0


def _diff(args: argparse.Namespace) -> int:
    from .diff import FORMATS, DiffError, default_old, diff_versions

    repo = Path(args.repo)
    try:
        old = args.old or default_old(repo)
        changes = diff_versions(old, args.new, repo=repo)
    except DiffError as exc:
        print(f"infocontrols diff: cannot run: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(FORMATS[args.format](changes))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export_sqlite import ExportError, export_sqlite
    from .release import ReleaseError, package_zip

    writers = {"sqlite": export_sqlite, "zip": package_zip}
    try:
        path = writers[args.format](Path(args.path), root=args.package_dir)
    except (ContractError, ExportError, ReleaseError, OSError) as exc:
        print(f"infocontrols export: nothing was written: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .explorer import ExplorerError, serve
    from .export_sqlite import ExportError

    try:
        serve(args.db, host=args.host, port=args.port, root=args.package_dir, open_browser=args.open)
    except (ContractError, ExportError, ExplorerError, OSError) as exc:
        print(f"infocontrols serve: cannot start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _release(args: argparse.Namespace) -> int:
    from .export_sqlite import ExportError
    from .release import ReleaseError, changes_markdown, record_changes, release_assets

    try:
        if args.release_command == "assets":
            written = release_assets(Path(args.outdir), root=args.package_dir, tag=args.tag)
            print("wrote release assets:" + "".join(f"\n  {p}" for p in written))
        else:
            print(changes_markdown(record_changes(args.since, root=args.package_dir), args.since))
    except (ContractError, ExportError, ReleaseError, OSError) as exc:
        print(f"infocontrols release: {exc}", file=sys.stderr)
        return 2
    return 0


EXIT_CODES = {
    "validate": "Exit status: 0 valid (warnings allowed), 1 invalid (errors found), 2 could not run.",
    "build": "Exit status: 0 built (or, with --check, up to date), 1 the package fails validation or (with --check) a generated file is stale, 2 could not run.",
    "fmt": "Exit status: 0 formatted (or, with --check, already canonical), 1 (with --check) a file would change or a file needs a person, 2 could not run.",
    "add": "Exit status: 0 added (or, with --dry-run, checked), 2 refused or could not run: nothing was written.",
    "diff": "Exit status: 0 success, 2 could not run.",
    "info": "Exit status: 0 success, 2 could not run.",
    "export": "Exit status: 0 written, 2 could not run: nothing was written.",
    "serve": "Exit status: 0 stopped, 2 could not start.",
    "release": "Exit status: 0 success, 2 could not run.",
}


def _version_text() -> str:
    from . import __version__

    return f"infocontrols {__version__}"


class _VersionAction(argparse.Action):
    """argparse's ``version`` action, but the version is looked up only when it is asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(_version_text() + "\n", sys.stdout)
        parser.exit()


def _command(sub, name: str, help: str, description: str):
    return sub.add_parser(name, help=help, description=f"{description} {EXIT_CODES[name]}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="infocontrols",
        description="Validate, build, format, add to, compare, export and summarise the InfoControls data package. "
        "Run `infocontrols COMMAND --help` for a command's options and exit codes.",
    )
    p.add_argument("--version", action=_VersionAction, help="print the package version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    v = _command(sub, "validate", "check every file and rule; report every problem",
                 "Check the files (encoding, line endings, header, types), then every rule listed in CONTRIBUTING.md, and report every problem at once.")
    v.add_argument("package_dir", nargs="?", default=".", help="folder holding datapackage.json (default: .)")
    v.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text: one line per finding, grouped by rule, the first five of each (default); json: every finding as a record; github: workflow commands that annotate a pull request's diff")
    v.add_argument("--baseline", metavar="GIT_REF", help="also check that every ID present at this git revision (e.g. origin/main) is still present or listed in data/retired_ids.csv")
    v.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    v.set_defaults(run=_validate)
    b = _command(sub, "build", "write Parquet, datapackage.json, codebook and citation from the CSV",
                 "Regenerate everything derived from data/ and schema/: typed Parquet, datapackage.json, the codebook, CITATION.cff, .zenodo.json, croissant.json, the chart and the generated blocks of README.md and CONTRIBUTING.md. Refuses an invalid package.")
    b.add_argument("package_dir", nargs="?", default=".", help="the package folder (default: .)")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every stale generated file and what differs (Parquet files are compared by content, not bytes)")
    b.set_defaults(run=_build)
    f = _command(sub, "fmt", "rewrite the CSV tables in canonical form (sorted, LF, NFC, no edge spaces)",
                 "Rewrite the CSV tables in canonical form: UTF-8 without BOM, LF line endings, text in NFC without leading or trailing spaces, rows sorted by key, one quoting style. Values never change otherwise; running it twice changes nothing. All files or none are written.")
    f.add_argument("package_dir", nargs="?", default=".", help="the package folder (default: .)")
    f.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every file that is not canonical")
    f.set_defaults(run=_fmt)
    a = _command(sub, "add", "add events (nested JSON records with their actors, measures, sources, figures) to the CSV tables",
                 "Add new events from a JSON file in the format of docs/add-events.schema.json (example: docs/examples/add-event.json). Existing actors, measures and sources are reused by name or URL; IDs are assigned; the new state is validated with validate's rules before anything is written, and a refused batch writes nothing.")
    a.add_argument("events_json", help="a JSON array of new events (docs/add-events.schema.json; example: docs/examples/add-event.json)")
    a.add_argument("package_dir", nargs="?", default=".", help="the package folder (default: .)")
    a.add_argument("--accessed-on", default=dt.date.today().isoformat(), metavar="YYYY-MM-DD", help="date the sources were read (default: today)")
    a.add_argument("--dry-run", action="store_true", help="check everything and show the new IDs and the reused actors, measures and sources; write nothing")
    a.set_defaults(run=_add)
    d = _command(sub, "diff", "list the records added, changed, retired and removed between two versions",
                 "Record-level differences between two versions of the package. A version is a package folder or a git revision. Default: the merge base of HEAD with main, and the working tree.")
    d.add_argument("old", nargs="?", help="old version: a folder or git revision (default: merge base with main)")
    d.add_argument("new", nargs="?", default=".", help="new version: a folder or git revision (default: .)")
    d.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="text (default), markdown (for a pull request summary) or json (every change)")
    d.add_argument("--repo", default=".", help="git repository the revisions belong to (default: .)")
    d.set_defaults(run=_diff)
    i = _command(sub, "info", "print row counts, events by year and control domain, checklist recall and language shares",
                 "Print a one-screen summary of the package.")
    i.add_argument("package_dir", nargs="?", default=".", help="the package folder (default: .)")
    i.set_defaults(run=_info)
    e = _command(sub, "export", "write the package as one SQLite file or as a data package zip",
                 "Write the package as one SQLite file (tables, keys, indexes, full-text search, an events_wide view) or as a data package zip.")
    e.add_argument("format", choices=("sqlite", "zip"), help="sqlite: tables, keys, indexes, full-text search, events_wide view; zip: the data package files")
    e.add_argument("path", help="file to write, e.g. infocontrols.sqlite")
    e.add_argument("--package-dir", default=None, metavar="DIR", help="package to export (default: the installed one)")
    e.set_defaults(run=_export)
    s = _command(sub, "serve", "browse the package in Datasette (needs the explore extra)",
                 "Serve the package in Datasette, read-only, with every table and column described.")
    s.add_argument("--db", default=None, metavar="PATH", help="an existing SQLite export (default: export the package afresh)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001)")
    s.add_argument("--open", action="store_true", help="open the explorer in a web browser")
    s.add_argument("--package-dir", default=None, metavar="DIR", help="package whose schema describes the database (default: the installed one)")
    s.set_defaults(run=_serve)
    r = _command(sub, "release", "release assets (zip, SQLite, croissant.json) and record counts for the CHANGELOG",
                 "Make the release assets, or count the records changed since a release.")
    rsub = r.add_subparsers(dest="release_command", required=True)
    ra = rsub.add_parser("assets", help="write the release assets and SHA256SUMS into a folder")
    ra.add_argument("outdir", help="folder to write into (created if missing)")
    ra.add_argument("--tag", default=None, help="the git tag being released; must be v<version> and the version must have a CHANGELOG section")
    ra.add_argument("--package-dir", default=None, metavar="DIR")
    rc = rsub.add_parser("changes", help="records added, changed and removed per table since a git revision")
    rc.add_argument("--since", required=True, metavar="GIT_REF", help="the previous release tag, e.g. v0.1.0")
    rc.add_argument("--package-dir", default=None, metavar="DIR")
    r.set_defaults(run=_release)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:  # argparse: bad arguments exit 2, --help exits 0
        return int(exc.code or 0)
    if args.command == "validate" and args.today:
        try:
            dt.date.fromisoformat(args.today)
        except ValueError:
            print(f"infocontrols validate: --today {args.today!r} is not YYYY-MM-DD", file=sys.stderr)
            return 2
    try:
        if args.command == "serve":  # runs until stopped, and says so itself
            return args.run(args)
        with progress.shown(f"infocontrols {args.command}"):
            return args.run(args)
    except KeyboardInterrupt:
        print(f"infocontrols {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: a message and exit 2, never a traceback and exit 1
        text = str(exc).splitlines()[0] if str(exc) else ""
        print(f"infocontrols {args.command}: could not run: {type(exc).__name__}: {text} "
              "(this is a bug in infocontrols; please report it with the command you ran)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
