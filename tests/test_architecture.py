"""The shape the README's Architecture section describes, checked by import-linter.

The contracts live in pyproject.toml ([tool.importlinter]); this runs them in the test suite so a
change that breaks the layering fails here, with import-linter's report of the offending imports.
It runs in a process of its own: import-linter configures logging for its own output, which would
silence the loggers other tests read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = (
    "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
)


def test_the_import_contracts_are_kept():
    result = subprocess.run(
        [sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
