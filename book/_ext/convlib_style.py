"""Local Sphinx extension: the course site's own stylesheet (``style/convlib.css``).

Kept out of the book's ``_static/`` folder on purpose: Jupyter Book adds every ``.css``
and ``.js`` file found under *any* static path to every page once ``_static/`` exists,
which would include the offline MathJax tree (see ``_config.yml``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

STYLE_DIR = Path(__file__).with_name("style")


def _add_static_dir(app: Any) -> None:
    if str(STYLE_DIR) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STYLE_DIR))


def setup(app: Any) -> dict:
    app.connect("builder-inited", _add_static_dir)
    app.add_css_file("convlib.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
