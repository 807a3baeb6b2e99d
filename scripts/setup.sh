#!/usr/bin/env bash
# Set up a development environment and run the main job: build and validate the package.
#   bash scripts/setup.sh           install, build (writes generated files), validate, summarise
#   bash scripts/setup.sh --check   install, check generated files are up to date (writes nothing), validate
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,build,explore]"
# cffconvert pins an old jsonschema that conflicts with frictionless, so it lives in its own venv.
if [ ! -x .venv-tools/bin/cffconvert ]; then
  python3 -m venv .venv-tools
  .venv-tools/bin/python -m pip install -q --upgrade pip
  .venv-tools/bin/python -m pip install -q "ruamel.yaml>=0.17" cffconvert
fi
if [ "$mode" = "--check" ]; then
  .venv/bin/infocontrols build --check
else
  .venv/bin/infocontrols build
fi
.venv/bin/infocontrols validate
.venv/bin/infocontrols info
