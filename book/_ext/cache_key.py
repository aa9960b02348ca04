"""Keep the book's execution cache honest: clear it when convlib or a build switch changes.

jupyter-cache keys a chapter on its code cells only, so a chapter whose cells are unchanged
is not executed again when convlib's source (a plotting helper, say) or an environment switch
such as ``CONVLIB_STATIC`` changes, and the site would show stale figures. Every chapter
imports convlib, so this script hashes the package's ``*.py`` files and the named
environment variables and, when the hash differs from the one recorded at the last build
(``<build>/convlib-source.key``), removes the execution cache (``<build>/.jupyter_cache``)
and Sphinx's saved doctrees (``<build>/.doctrees``: without them Sphinx would not even read
an unchanged chapter again, let alone execute it)::

    python book/_ext/cache_key.py _build convlib CONVLIB_STATIC

``make book`` runs it before ``jupyter-book build``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

KEY_FILE = "convlib-source.key"
STALE = (".jupyter_cache", ".doctrees", "jupyter_execute")


def source_key(source: Path, variables: list[str]) -> str:
    """sha256 of every ``*.py`` under ``source`` (path and bytes) and of ``NAME=value`` pairs."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*.py")):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name in variables:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    build, source, variables = Path(argv[0]), Path(argv[1]), argv[2:]
    if not source.is_dir():
        print(f"cache_key.py: source folder {source} does not exist", file=sys.stderr)
        return 2
    key = source_key(source, variables)
    recorded = build / KEY_FILE
    if recorded.is_file() and recorded.read_text().strip() == key:
        return 0
    stale = [build / name for name in STALE if (build / name).exists()]
    if stale:
        print(f"{source}/ or {', '.join(variables) or 'the build switches'} changed since the "
              f"last build: clearing {', '.join(map(str, stale))} so that every chapter "
              "is executed again")
        for path in stale:
            shutil.rmtree(path)
    build.mkdir(parents=True, exist_ok=True)
    recorded.write_text(key + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
