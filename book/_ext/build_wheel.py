"""Build convlib's wheel and the readers' requirements.txt (``make wheel``).

The course site serves both (``wheels/`` next to the chapter notebooks, copied there by
``convlib_offsite``), so a reader who downloads a chapter can install convlib without
the repository::

    python book/_ext/build_wheel.py _build/wheel

writes ``_build/wheel/convlib-<version>-py3-none-any.whl`` and
``_build/wheel/requirements.txt``. The wheel is built from a copy of ``pyproject.toml``
and ``convlib/`` in a temporary folder, so setuptools leaves no ``build/`` or
``*.egg-info`` in the checkout. The requirements are the ``course`` extra of
``pyproject.toml`` (one home for what the chapters need beside convlib).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA = "course"


def reader_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The packages the chapters import beside convlib: the ``course`` extra."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    if EXTRA not in extras:
        raise SystemExit(f"{pyproject}: [project.optional-dependencies] has no '{EXTRA}' list")
    return list(project.get("dependencies", [])) + list(extras[EXTRA])


def build(out: Path) -> Path:
    """Build the wheel into ``out`` (older convlib wheels there are removed); return it."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("convlib-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="convlib-wheel-") as tmp:
        shutil.copy2(ROOT / "pyproject.toml", tmp)
        shutil.copytree(
            ROOT / "convlib", Path(tmp) / "convlib",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--wheel-dir", str(out.resolve()), tmp],
            check=True,
        )
    wheels = sorted(out.glob("convlib-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one convlib wheel in {out}, found {[w.name for w in wheels]}")
    lines = [
        "# What the course's chapter notebooks need beside convlib (its wheel is next to this file):",
        f"#   pip install -r requirements.txt {wheels[0].name}",
        *reader_requirements(),
    ]
    (out / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return wheels[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the wheel and requirements.txt")
    wheel = build(parser.parse_args().out)
    print(f"built {wheel}")


if __name__ == "__main__":
    main()
