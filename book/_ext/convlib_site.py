"""Local Sphinx extension for the course site: offline pages and notebook downloads.

* Every page loads its scripts once: Jupyter Book 1.x registers sphinx-thebe's
  configuration script twice, which logs "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser; duplicates are dropped here.
* No page asks a third-party server for anything: scripts and stylesheets with an
  ``http(s)://`` address are dropped (MathJax, require.js and the ipywidgets manager are
  served from ``_static``, see ``_config.yml``), and so are Font Awesome ``<link>`` tags
  that some outputs (matplotlib's ``to_jshtml``) carry: the theme ships Font Awesome.
* Every chapter can be downloaded as a Jupyter notebook: the MyST source is converted
  with jupytext into ``_sources/<page>.ipynb`` (no outputs) and the theme's download
  menu links to it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
_FONT_AWESOME_LINK = re.compile(
    r"<link\b[^>]*href=[\"'](?:https?:)?//[^\"']*font-?awesome[^\"']*[\"'][^>]*>", re.IGNORECASE
)


def _asset_key(asset: Any) -> tuple:
    attributes = getattr(asset, "attributes", {}) or {}
    filename = getattr(asset, "filename", asset) or ""  # inline scripts come as None or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items() if v is not None)))


def _is_external(asset: Any) -> bool:
    filename = getattr(asset, "filename", None) or ""
    return bool(_EXTERNAL.match(str(filename)))


def _keep_local_unique(assets: list) -> list:
    seen: set = set()
    kept = []
    for asset in assets:
        key = _asset_key(asset)
        if key in seen or _is_external(asset):
            continue
        seen.add(key)
        kept.append(asset)
    return kept


def _is_notebook(app: Any, pagename: str) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def _write_notebook_download(app: Any, pagename: str, context: dict) -> None:
    import jupytext

    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or not _is_notebook(app, pagename):
        return
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def on_html_page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = _keep_local_unique(context[key])
    if "body" in context:
        context["body"] = _FONT_AWESOME_LINK.sub("", context["body"])
    if doctree is not None:
        _write_notebook_download(app, pagename, context)


def setup(app: Any) -> dict:
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", on_html_page_context, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
