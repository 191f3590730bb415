"""The shape the README's Architecture section describes, checked by import-linter.

The contracts live in pyproject.toml ([tool.importlinter]); this runs them in the test suite so a
change that breaks the layering fails here, with import-linter's report of the offending imports.
"""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(capsys):
    cwd = os.getcwd()
    os.chdir(ROOT)  # import-linter reads pyproject.toml from the working directory
    try:
        exit_code = lint_imports(no_cache=True)
    finally:
        os.chdir(cwd)
    report = capsys.readouterr().out
    assert exit_code == 0, report
