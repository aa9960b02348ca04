"""Local Sphinx extension for the course site: offline pages and notebook downloads.

* Every page loads its scripts once: Jupyter Book 1.x registers sphinx-thebe's
  configuration script twice, which logs "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser; duplicates are dropped here.
* No page asks a third-party server for anything: scripts and stylesheets with an
  ``http(s)://`` address are dropped (MathJax, require.js and the ipywidgets manager are
  served from ``_static``, see ``_config.yml``), and so are Font Awesome ``<link>`` tags
  that some outputs (matplotlib's ``to_jshtml``) carry: the theme ships Font Awesome.
* The chapters' notebook downloads, the wheel and the launch buttons are
  ``convlib_offsite``'s job.
"""
from __future__ import annotations

import re
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


def on_html_page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = _keep_local_unique(context[key])
    if "body" in context:
        context["body"] = _FONT_AWESOME_LINK.sub("", context["body"])


def setup(app: Any) -> dict:
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", on_html_page_context, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
