"""Local Sphinx extension: the course outside the website.

* ``wheels/``: convlib's wheel and the readers' ``requirements.txt`` (built by
  ``make wheel`` into ``_build/wheel``) are served by the site.
* ``_sources/<chapter>.ipynb``: every chapter downloads as a notebook (jupytext, no
  outputs) whose first cell is an optional set-up cell (:func:`setup_cell_source`):
  it installs convlib from the wheel next to the notebook, from a path or URL the
  reader gives, or from the published site, and does nothing where convlib is
  installed. The rest of the notebook is the chapter's code, unchanged.
* Launch buttons (``launch_buttons`` and ``repository`` in ``_config.yml``) open that
  notebook: the theme points them at ``<path_to_book>/<chapter>.md`` of the
  repository's branch; they are pointed at the ``.ipynb`` that ``make publish`` pushes
  to that branch (``gh-pages``: ``_sources/<chapter>.ipynb``, ``wheels/``, and
  ``binder/requirements.txt`` for Binder's image).
* The header links the PDF edition (``make pdf`` copies it next to ``index.html``).
* The pages can name the course's addresses, so a fork changes them in ``_config.yml``
  alone: ``{{ repository_url }}``, ``{{ site_url }}`` and ``{{ convlib_wheel }}`` are
  MyST substitutions in text and are filled in code blocks of non-notebook pages too.

No page gains a request to another host: launch buttons are plain links.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx.transforms import SphinxTransform

WHEELS = "wheels"  # the site's folder for the wheel and requirements.txt
SETUP_TAG = "convlib-setup"  # cell tag of the set-up cell in downloaded notebooks
BINDER_REQUIREMENTS = f"""\
# Binder's environment for the launch buttons (this file is on the gh-pages branch)
--extra-index-url https://download.pytorch.org/whl/cpu
-r ../{WHEELS}/requirements.txt
"""


# ------------------------------------------------------------------------ where things are
def wheel_dir(app: Any) -> Path:
    """``_build/wheel``: where ``make wheel`` puts the wheel (beside the html output)."""
    return Path(app.outdir).parent / "wheel"


def wheel_name(app: Any) -> str:
    """File name of the convlib wheel the site serves; a clear error when it is missing."""
    wheels = sorted(wheel_dir(app).glob("convlib-*-py3-none-any.whl"))
    if len(wheels) != 1 or not (wheel_dir(app) / "requirements.txt").is_file():
        raise RuntimeError(
            f"the site serves convlib's wheel, but {wheel_dir(app)} holds "
            f"{[w.name for w in wheels]} (expected one wheel and requirements.txt): "
            "run `make wheel` (make book runs it)"
        )
    return wheels[0].name


def site_url(app: Any) -> str:
    """The published site's address, ending in '/'.

    ``html.baseurl`` in ``_config.yml`` when set, else the GitHub Pages address of
    ``repository.url`` (``https://<user>.github.io/<repo>/``, what ``make publish``
    serves), else "" (no repository configured).
    """
    base = (app.config.html_baseurl or "").strip()
    if base:
        return base.rstrip("/") + "/"
    repo = str(app.config.html_theme_options.get("repository_url", "")).rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?", repo)
    if not match:
        return ""
    return f"https://{match.group(1).lower()}.github.io/{match.group(2)}/"


def pdf_name(app: Any) -> str:
    """File name of the PDF edition (``latex_documents`` target, ``.tex`` -> ``.pdf``)."""
    return Path(app.config.latex_documents[0][1]).with_suffix(".pdf").name


def addresses(app: Any) -> dict[str, str]:
    """The values of ``{{ repository_url }}``, ``{{ site_url }}`` and ``{{ convlib_wheel }}``."""
    return {
        "repository_url": str(app.config.html_theme_options.get("repository_url", "")),
        "site_url": site_url(app),
        "convlib_wheel": wheel_name(app),
    }


_PLACEHOLDER = re.compile(r"\{\{\s*(repository_url|site_url|convlib_wheel)\s*\}\}")


class FillAddressesInCode(SphinxTransform):
    """``{{ name }}`` in code blocks of the non-notebook pages (MyST leaves code alone)."""

    default_priority = 700

    def apply(self, **kwargs: Any) -> None:
        if "kernelspec" in self.env.metadata.get(self.env.docname, {}):
            return
        values = addresses(self.app)
        for block in list(self.document.findall(nodes.literal_block)):
            text = block.astext()
            filled = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
            if filled != text:
                block.children = [nodes.Text(filled)]
                block.rawsource = filled


def on_config_inited(app: Any, config: Any) -> None:
    substitutions = dict(config.myst_substitutions or {})
    for name, value in addresses(app).items():
        substitutions.setdefault(name, value)
    config.myst_substitutions = substitutions


# ------------------------------------------------------------------------- the set-up cell
def setup_cell_source(wheel: str, site: str, local_dir: str) -> str:
    """Source of the optional first cell of a downloaded chapter notebook.

    Parameters
    ----------
    wheel : str
        The wheel's file name, e.g. ``convlib-0.1.0-py3-none-any.whl``.
    site : str
        The published site's address ending in '/', or "" when unknown.
    local_dir : str
        The folder of the wheel relative to the notebook, ending in '/', in a copy
        of the site (Binder and JupyterHub check out the published branch).

    Returns
    -------
    str
        Python code, lines of at most 80 characters.

    Examples
    --------
    >>> src = setup_cell_source("convlib-0.1.0-py3-none-any.whl",
    ...                         "https://x.github.io/c/", "../wheels/")
    >>> max(len(line) for line in src.splitlines()) <= 80
    True
    >>> compile(src, "setup", "exec") and "https://x.github.io/c/wheels/" in src
    True
    """
    return f'''\
# Optional set-up: run it once where convlib is not installed (Colab, Binder, a
# new virtual environment); where convlib is installed it does nothing. It
# installs convlib and the packages the chapters use, from the wheel beside this
# notebook or on the course website, or from your copy: set CONVLIB_WHEEL to its
# path or URL (or the environment variable of that name).
CONVLIB_WHEEL = ""
import importlib, importlib.util, os, pathlib, subprocess, sys

def install_convlib(wheel=CONVLIB_WHEEL or os.environ.get("CONVLIB_WHEEL")):
    if not wheel and importlib.util.find_spec("convlib") is not None:
        return print("convlib is installed: nothing to do")
    name = "{wheel}"
    site = "{site + WHEELS + '/' if site else ''}"
    near = [p for p in (name, "{local_dir}" + name) if os.path.exists(p)]
    wheel = wheel or (near[0] if near else site + name)
    if "://" not in wheel:
        if not os.path.exists(wheel):
            raise FileNotFoundError(f"no convlib wheel at {{wheel!r}}: set "
                                    "CONVLIB_WHEEL to the wheel's path or URL")
        wheel = pathlib.Path(wheel).resolve().as_uri()
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + [f"convlib[course] @ {{wheel}}"], check=True)
    importlib.invalidate_caches()
    print("installed convlib from", wheel)

install_convlib()
'''


def chapter_notebook(app: Any, pagename: str) -> nbformat.NotebookNode:
    """The chapter as a notebook: the set-up cell, then the chapter's cells unchanged."""
    import jupytext

    notebook = jupytext.read(Path(app.env.doc2path(pagename)))
    notebook.metadata.pop("jupytext", None)
    here = (Path(app.outdir) / "_sources" / pagename).parent
    local = Path(os.path.relpath(Path(app.outdir) / WHEELS, here)).as_posix() + "/"
    cell = nbformat.v4.new_code_cell(
        setup_cell_source(wheel_name(app), site_url(app), local),
        metadata={"tags": [SETUP_TAG]},
    )
    notebook.cells.insert(0, cell)
    for index, each in enumerate(notebook.cells):  # stable ids: the same file every build
        each.id = f"cell-{index}"
    return notebook


# ------------------------------------------------------------------------------ the pages
def _is_notebook(app: Any, pagename: str) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def _retarget_launch_buttons(context: dict, pagename: str) -> None:
    """Launch links name ``<page>.md``; the published branch holds ``<page>.ipynb``."""
    page = re.escape(pagename)
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = re.sub(rf"(/{page})\.md(?=$|[&?#])", r"\1.ipynb", button["url"])


def _chapter_source(app: Any, pagename: str, doctree: Any) -> Path | None:
    if doctree is None or not _is_notebook(app, pagename):
        return None
    source = Path(app.env.doc2path(pagename))
    return source if source.suffix == ".md" else None


def on_page_download(app: Any, pagename: str, templatename: str, context: dict,
                     doctree: Any) -> None:
    # before the theme builds its download menu (priority 501)
    if _chapter_source(app, pagename, doctree) is not None:
        context["ipynb_source"] = f"{pagename}.ipynb"


def on_html_page_context(app: Any, pagename: str, templatename: str, context: dict,
                         doctree: Any) -> None:
    # after sphinx-book-theme (priority 501) has made the launch buttons
    if _chapter_source(app, pagename, doctree) is not None:
        _retarget_launch_buttons(context, pagename)
    if "header_buttons" in context and "pathto" in context:
        context["header_buttons"].append({
            "type": "link",
            "url": context["pathto"](pdf_name(app), 1),
            "text": "",
            "tooltip": "The whole book as one PDF",
            "icon": "fas fa-file-pdf",
            "label": "pdf-edition-button",
        })


def on_builder_inited(app: Any) -> None:
    if app.builder.format != "html":
        return
    wheel_name(app)  # fail early, before hours of execution, when `make wheel` was skipped


def on_build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    # every chapter's download, written at the end of every build (not only for the pages
    # Sphinx rewrote): it replaces the executed copy sphinx-book-theme puts in _sources/
    for pagename in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(pagename))
        if source.suffix == ".md" and _is_notebook(app, pagename):
            target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(chapter_notebook(app, pagename), target)
    target = Path(app.outdir) / WHEELS
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in (wheel_name(app), "requirements.txt"):
        shutil.copy2(wheel_dir(app) / name, target / name)
    # Binder builds its image from the published branch: the readers' requirements with
    # CPU torch (no GPU there), so the set-up cell only adds convlib from wheels/
    binder = Path(app.outdir) / "binder"
    binder.mkdir(exist_ok=True)
    (binder / "requirements.txt").write_text(BINDER_REQUIREMENTS, encoding="utf-8")


def setup(app: Any) -> dict:
    app.connect("config-inited", on_config_inited)
    app.add_transform(FillAddressesInCode)
    app.connect("builder-inited", on_builder_inited)
    app.connect("html-page-context", on_page_download, priority=499)
    app.connect("html-page-context", on_html_page_context, priority=502)
    app.connect("build-finished", on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
