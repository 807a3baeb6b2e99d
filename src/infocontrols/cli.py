"""The command line: ``infocontrols validate | build | add | info``.

Exit status: 0 success (warnings allowed), 1 invalid or stale, 2 could not run.
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
import sys
from pathlib import Path

from .contract import ContractError


def _validate(args: argparse.Namespace) -> int:
    from .validation import BaselineError, validate_package
    from .validation.report import FORMATS

    today = dt.date.fromisoformat(args.today) if args.today else None
    try:
        report = validate_package(Path(args.package_dir), today=today, baseline=args.baseline)
    except (ContractError, BaselineError) as exc:
        print(f"infocontrols validate: cannot run: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(FORMATS[args.format](report))
    return 0 if report.ok else 1


def _build(args: argparse.Namespace) -> int:
    from .build import BuildError, build

    try:
        changed = build(Path(args.package_dir), check=args.check)
    except ContractError as exc:
        print(f"infocontrols build: cannot run: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"infocontrols build: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if changed:
            print("stale generated files (run `infocontrols build`):")
            for rel in changed:
                print(f"  {rel}")
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
    except ContractError as exc:
        print(f"infocontrols info: cannot run: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(summary_text(contract))
    return 0


def _add(args: argparse.Namespace) -> int:
    from .importer import add_events_from_file

    try:
        dt.date.fromisoformat(args.accessed_on)
        added = add_events_from_file(Path(args.package_dir), Path(args.events_json), args.accessed_on)
    except (ContractError, OSError, ValueError, KeyError) as exc:
        print(f"infocontrols add: nothing was added: {exc}", file=sys.stderr)
        return 2
    print(f"added {len(added)} event(s):" + "".join(f"\n  {event_id}" for event_id in added))
    print("next: infocontrols validate, then infocontrols build")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="infocontrols", description="Validate, build and summarise the InfoControls data package.")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every file and rule; report every problem")
    v.add_argument("package_dir", nargs="?", default=".", help="folder holding datapackage.json (default: .)")
    v.add_argument("--format", choices=("text", "json", "github"), default="text")
    v.add_argument("--baseline", metavar="GIT_REF", help="also check that IDs present at this git revision were not dropped")
    v.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    v.set_defaults(run=_validate)
    b = sub.add_parser("build", help="write Parquet, datapackage.json, codebook and citation from the CSV")
    b.add_argument("package_dir", nargs="?", default=".")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every stale generated file")
    b.set_defaults(run=_build)
    a = sub.add_parser("add", help="add events (nested JSON records with their actors, measures, sources, figures) to the CSV tables")
    a.add_argument("events_json", help="a JSON array of events in the nested form (see CONTRIBUTING.md)")
    a.add_argument("package_dir", nargs="?", default=".")
    a.add_argument("--accessed-on", default=dt.date.today().isoformat(), metavar="YYYY-MM-DD", help="date the sources were read (default: today)")
    a.set_defaults(run=_add)
    i = sub.add_parser("info", help="print row counts and events by year and control domain")
    i.add_argument("package_dir", nargs="?", default=".")
    i.set_defaults(run=_info)
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
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
