"""Local Sphinx extension: interactive figures in the PDF edition (``make pdf``).

An interactive cell (``convlib.widgets.explore`` with ``CONVLIB_STATIC=1``) outputs
HTML: controls, the default frame as a PNG ``data:`` URI, and the other frames for its
script. A printed page cannot run the script, and myst-nb's LaTeX output would fall back
to the cell's text ``repr``. This transform adds an ``image/png`` choice to such outputs:
the default frame, written to ``_build/jupyter_execute/convlib_frames/``, followed by a
note that the course website has the live version. myst-nb picks one output format per
builder, so the HTML pages keep the interactive cell and the PDF gets the picture.
"""
from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform

_FRAME = re.compile(
    r'<img class="convlib-explore-frame" alt="([^"]*)"[^>]*?src="data:image/png;base64,([^"]+)"'
)
FOLDER = "convlib_frames"


def default_frame(page_html: str) -> tuple[bytes, str] | None:
    """The default frame (PNG bytes) and the parameter names of an interactive cell's HTML.

    Returns None for any other HTML.

    Examples
    --------
    >>> png = base64.b64encode(b"png").decode()
    >>> cell = ('<div class="convlib-explore" id="x"><img class="convlib-explore-frame" '
    ...         f'alt="interactive figure; parameters: n, kind" style="" '
    ...         f'src="data:image/png;base64,{png}"></div>')
    >>> default_frame(cell)
    (b'png', 'n, kind')
    >>> default_frame("<table></table>") is None
    True
    """
    if 'class="convlib-explore"' not in page_html:
        return None
    match = _FRAME.search(page_html)
    if match is None:
        return None
    alt = html.unescape(match.group(1))
    return base64.b64decode(match.group(2)), alt.split("parameters:", 1)[-1].strip()


class InteractiveFigureForPrint(SphinxTransform):
    """Give every interactive cell's output an ``image/png`` choice: its default frame."""

    default_priority = 800  # after parsing; before the read doctree is stored

    def apply(self, **kwargs: Any) -> None:
        out = Path(self.app.outdir).parent / "jupyter_execute" / FOLDER
        for bundle in list(self.document.findall(nodes.container)):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            types = {child.get("mime_type"): child for child in bundle.children}
            if "text/html" not in types or "image/png" in types:
                continue
            found = default_frame(types["text/html"].astext())
            if found is None:
                continue
            png, params = found
            path = out / f"{hashlib.sha256(png).hexdigest()[:20]}.png"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png)
            # Sphinx reads "/..." as relative to the source folder
            uri = "/" + os.path.relpath(path.resolve(), Path(self.app.srcdir).resolve())
            choice = nodes.container(mime_type="image/png")
            choice += nodes.image(uri=uri, alt=f"interactive figure ({params})")
            note = nodes.paragraph(classes=["convlib-print-note"])
            note += nodes.emphasis(
                text=f"Interactive figure, shown at its default setting: on the course "
                f"website (or in the chapter's notebook) controls for {params} redraw it."
            )
            choice += note
            bundle += choice


def setup(app: Any) -> dict:
    app.add_transform(InteractiveFigureForPrint)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
