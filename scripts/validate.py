#!/usr/bin/env python3
"""Validate the package without installing it: `python scripts/validate.py [DIR] [--format ...]`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from infocontrols.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
