"""Local Sphinx extension: the course site's own stylesheet and its ``index.html``.

The stylesheet (``style/convlib.css``) is kept out of the book's ``_static/`` folder on
purpose: Jupyter Book adds every ``.css`` and ``.js`` file found under *any* static path
to every page once ``_static/`` exists, which would include the offline MathJax tree
(see ``_config.yml``).

``index.html`` redirects to the root page (the introduction). sphinx-external-toc writes a bare
``<meta http-equiv="Refresh">`` there, with no icon, so a browser asks for
``/favicon.ico`` (a 404 in the console) before it follows the redirect; the page written
here names the site's icon and title and links to the first page. (sphinx-external-toc
leaves an existing ``index.html`` alone.)
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

STYLE_DIR = Path(__file__).with_name("style")


def _add_static_dir(app: Any) -> None:
    if str(STYLE_DIR) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STYLE_DIR))


INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="_static/{icon}">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def _write_index_redirect(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html" or app.config.root_doc == "index":
        return
    icon = Path(app.config.html_favicon or "").name
    page = INDEX_PAGE.format(
        title=html.escape(app.config.html_title or app.config.project),
        icon=icon,
        target=f"{app.config.root_doc}.html",
    )
    if not icon:
        page = page.replace('<link rel="icon" href="_static/">\n', "")
    (Path(app.outdir) / "index.html").write_text(page, encoding="utf-8")


def setup(app: Any) -> dict:
    app.connect("builder-inited", _add_static_dir)
    # before sphinx-external-toc's ensure_index_file (priority 500), which then keeps it
    app.connect("build-finished", _write_index_redirect, priority=400)
    app.add_css_file("convlib.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
