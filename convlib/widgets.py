"""Interactive cells for the chapters: one ``draw`` function, a few parameters, two back ends.

:func:`explore` is the one way a chapter makes an interactive figure:

* with a live kernel (Jupyter) it shows ipywidgets controls and redraws the figure
  on every change;
* when the book is built (environment variable ``CONVLIB_STATIC=1``, or ``static=True``)
  it renders every combination of parameter values once and emits self-contained
  HTML + JavaScript (no CDN, no require.js) whose controls swap the pre-rendered
  frames, so the controls keep working on the static website.

ipywidgets and matplotlib are imported only when a cell is built.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> def draw(width, kind):
...     fig, ax = plt.subplots(figsize=(2, 1))
...     ax.plot([0, width], [0, 1] if kind == "rise" else [1, 0])
...     return fig
>>> cell = explore(draw, width=[1, 2, 3], kind=Param(["rise", "fall"], default="fall"),
...                static=True)
>>> cell.n_frames
6
>>> "<input type=\\"range\\"" in cell._repr_html_()
True
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import numbers
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from convlib._validation import as_int

__all__ = ["Param", "explore", "StaticExplorer", "time_redraw", "render_png", "is_static", "glue"]

_MISSING = object()
#: keyword names that configure :func:`explore` itself and cannot be parameter names
RESERVED = frozenset({"static", "play", "dpi", "max_frames"})


@dataclass(frozen=True)
class Param:
    """One parameter of an interactive cell: its values, default and label.

    Parameters
    ----------
    values : sequence
        The values the control offers, in order. All numbers give a slider; anything
        else (strings, booleans) gives buttons or a drop-down list.
    default : optional
        The value shown first; must be one of ``values``. Defaults to ``values[0]``.
    label : str, optional
        Text shown beside the control; defaults to the parameter's name.

    Examples
    --------
    >>> p = Param(range(1, 6), default=3, label="kernel width")
    >>> p.values, p.default_index
    ((1, 2, 3, 4, 5), 2)
    """

    values: Sequence[Any]
    default: Any = field(default=_MISSING, kw_only=True)
    label: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)):
            raise TypeError(
                f"values must be a list, tuple or range of values, got the string {self.values!r}"
            )
        try:
            values = tuple(self.values)
        except TypeError:
            raise TypeError(
                f"values must be a list, tuple or range of values, got {type(self.values).__name__}"
            ) from None
        if not values:
            raise ValueError("values must hold at least one value, got an empty sequence")
        object.__setattr__(self, "values", values)
        if self.default is _MISSING:
            object.__setattr__(self, "default", values[0])
        elif not any(_same(self.default, v) for v in values):
            raise ValueError(f"default must be one of values {list(values)}, got {self.default!r}")

    @property
    def default_index(self) -> int:
        """Position of the default in ``values``."""
        return next(i for i, v in enumerate(self.values) if _same(self.default, v))

    @property
    def numeric(self) -> bool:
        """True when every value is a real number (not a bool): the control is a slider."""
        return all(_is_number(v) for v in self.values)

    def value_labels(self) -> list[str]:
        """The values as the control displays them."""
        return [f"{v:g}" if _is_number(v) else str(v) for v in self.values]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:  # arrays or odd objects: identity only
        return a is b


def _as_params(params: dict[str, Any]) -> dict[str, Param]:
    if not params:
        raise TypeError("explore() needs at least one parameter, e.g. explore(draw, width=[1, 3, 5])")
    return {name: p if isinstance(p, Param) else Param(p) for name, p in params.items()}


def is_static(static: bool | None = None) -> bool:
    """Whether cells render the static (pre-computed) version.

    Parameters
    ----------
    static : bool, optional
        An explicit choice; when None, true exactly when the environment variable
        ``CONVLIB_STATIC`` is ``"1"`` (``make book`` sets it).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_static(True), is_static(False)
    (True, False)
    """
    if static is None:
        return os.environ.get("CONVLIB_STATIC", "") == "1"
    if not isinstance(static, bool):
        raise TypeError(f"static must be True, False or None, got {static!r}")
    return static


def glue(name: str, value: Any, *, display: bool = False) -> None:
    """Hand a figure or value to the book's ``{glue:figure}``, or show it in a notebook.

    When the book is built, myst-nb is installed: ``value`` is glued under ``name``
    (``myst_nb.glue``) and appears where the text places it, numbered and captioned.
    In a reader's plain Jupyter, VS Code or Colab (no myst-nb), a glued figure would
    never appear, so a matplotlib figure is displayed in its own cell instead; other
    values are displayed only when ``display`` is true.

    Parameters
    ----------
    name : str
        The key a ``{glue:figure}`` or ``{glue:text}`` refers to.
    value : object
        A matplotlib figure or any displayable value.
    display : bool, default False
        Also display ``value`` in the cell that glues it.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> glue("fig-example", fig)  # the book places it; outside IPython nothing shows
    >>> plt.close(fig)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        myst_glue = None
    if myst_glue is not None:
        myst_glue(name, value, display=display)
        return
    from IPython.display import display as show

    if display or type(value).__name__ == "Figure":
        show(value)


def render_png(figure: Any, *, dpi: int = 80, close: bool = True, compress_level: int = 6) -> bytes:
    """Encode a matplotlib figure as PNG bytes (the same path for live and static cells).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to encode (its own size and layout are kept, so frames line up).
    dpi : int, default 80
        Resolution.
    close : bool, default True
        Close the figure afterwards so pyplot does not also show it at the end of the cell.
    compress_level : int, default 6
        zlib level of the PNG (0-9): live redraws use 1 (fast to encode), pre-rendered
        frames the default (smaller pages).

    Returns
    -------
    bytes
        The PNG file.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(1, 1))
    >>> render_png(fig)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(
            f"draw must return a matplotlib.figure.Figure, got {type(figure).__name__}"
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": compress_level})
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return buffer.getvalue()


class StaticExplorer:
    """An interactive cell rendered ahead of time: HTML controls that swap pre-drawn frames.

    Made by :func:`explore` in static mode; notebooks display it through ``_repr_html_``.

    Attributes
    ----------
    params : dict of str to Param
        The parameters, in control order.
    frames : list of bytes
        Distinct PNG frames.
    frame_of : list of int
        For each combination of value indices (row-major over ``params``), its frame.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> def draw(n):
    ...     fig, ax = plt.subplots(figsize=(2, 1))
    ...     ax.plot(range(n))
    ...     return fig
    >>> explorer = explore(draw, n=[2, 3, 4], static=True)
    >>> type(explorer).__name__, explorer.n_frames
    ('StaticExplorer', 3)
    >>> "<input" in explorer._repr_html_()
    True
    """

    def __init__(
        self,
        draw: Callable[..., Any],
        params: dict[str, Param],
        *,
        play: bool = False,
        dpi: int = 80,
        max_frames: int = 150,
    ) -> None:
        self.params = params
        self.play = play
        sizes = [len(p.values) for p in params.values()]
        total = 1
        for size in sizes:
            total *= size
        if total > max_frames:
            raise ValueError(
                f"the parameters give {total} combinations ({' x '.join(map(str, sizes))}), "
                f"more than max_frames={max_frames}: use fewer values per parameter"
            )
        self.frames: list[bytes] = []
        self.frame_of: list[int] = []
        seen: dict[bytes, int] = {}
        for combination in itertools.product(*(p.values for p in params.values())):
            png = render_png(draw(**dict(zip(params, combination))), dpi=dpi)
            if png not in seen:
                seen[png] = len(self.frames)
                self.frames.append(png)
            self.frame_of.append(seen[png])
        digest = hashlib.sha1(b"".join(self.frames[:2]) + repr(list(params)).encode())
        self.element_id = "convlib-explore-" + digest.hexdigest()[:12]

    @property
    def n_frames(self) -> int:
        """Number of parameter combinations rendered."""
        return len(self.frame_of)

    def __repr__(self) -> str:
        names = ", ".join(f"{n}[{len(p.values)}]" for n, p in self.params.items())
        return f"<convlib interactive figure: {names}; {len(self.frames)} distinct frames>"

    def _default_flat_index(self) -> int:
        flat = 0
        for p in self.params.values():
            flat = flat * len(p.values) + p.default_index
        return flat

    def _controls_html(self) -> str:
        parts = []
        play_done = not self.play
        for position, (name, p) in enumerate(self.params.items()):
            label = html.escape(p.label or name)
            texts = p.value_labels()
            if p.numeric:
                control = (
                    f'<input type="range" min="0" max="{len(p.values) - 1}" step="1" '
                    f'value="{p.default_index}" data-position="{position}" '
                    f'aria-label="{label}" style="vertical-align:middle;width:14em">'
                    f' <output style="font-family:monospace">{html.escape(texts[p.default_index])}</output>'
                )
                if not play_done:
                    control += (
                        ' <button type="button" data-play="{0}" title="play">&#9654;</button>'
                    ).format(position)
                    play_done = True
            else:
                options = "".join(
                    f'<option value="{i}"{" selected" if i == p.default_index else ""}>'
                    f"{html.escape(text)}</option>"
                    for i, text in enumerate(texts)
                )
                control = f'<select data-position="{position}" aria-label="{label}">{options}</select>'
            parts.append(
                f'<label style="margin-right:1.5em;white-space:nowrap">{label} {control}</label>'
            )
        return "".join(parts)

    def _repr_html_(self) -> str:
        data = {
            "sizes": [len(p.values) for p in self.params.values()],
            "labels": [p.value_labels() for p in self.params.values()],
            "frames": [base64.b64encode(png).decode("ascii") for png in self.frames],
            "frameOf": self.frame_of,
        }
        payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        first = data["frames"][self.frame_of[self._default_flat_index()]]
        alt = html.escape("interactive figure; parameters: " + ", ".join(self.params))
        return (
            f'<div class="convlib-explore" id="{self.element_id}">'
            f'<div class="convlib-explore-controls" style="margin-bottom:0.3em">'
            f"{self._controls_html()}</div>"
            f'<img class="convlib-explore-frame" alt="{alt}" style="max-width:100%" '
            f'src="data:image/png;base64,{first}">'
            f'<script type="application/json" class="convlib-explore-data">{payload}</script>'
            f"<script>{_SCRIPT % json.dumps(self.element_id)}</script>"
            f"</div>"
        )


# The static cell's script: plain ES5, no library, one closure per cell.
_SCRIPT = """(function () {
  var root = document.getElementById(%s);
  if (!root || root.dataset.ready) { return; }
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".convlib-explore-data").textContent);
  var img = root.querySelector(".convlib-explore-frame");
  var controls = root.querySelectorAll("[data-position]");
  function show() {
    var flat = 0;
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i], p = +c.dataset.position, v = +c.value;
      flat = flat * data.sizes[p] + v;
      var out = c.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[p][v]; }
    }
    img.src = "data:image/png;base64," + data.frames[data.frameOf[flat]];
  }
  for (var i = 0; i < controls.length; i++) {
    controls[i].addEventListener("input", show);
    controls[i].addEventListener("change", show);
  }
  var play = root.querySelector("[data-play]");
  if (play) {
    var timer = null;
    var slider = root.querySelector('[data-position="' + play.dataset.play + '"]');
    play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.innerHTML = "&#9654;"; return; }
      play.innerHTML = "&#10074;&#10074;";
      timer = setInterval(function () {
        var next = (+slider.value + 1) %% (+slider.max + 1);
        slider.value = next; show();
        if (next === +slider.max) { clearInterval(timer); timer = null; play.innerHTML = "&#9654;"; }
      }, 200);
    });
  }
})();"""


_LIVE_COMPRESSION = 1  # a live redraw favours encoding speed over size


def _live(draw: Callable[..., Any], params: dict[str, Param], *, play: bool, dpi: int) -> Any:
    import ipywidgets as w

    values = {name: p.default for name, p in params.items()}
    image = w.Image(format="png", layout=w.Layout(max_width="100%"))
    message = w.HTML()
    drawn: dict[tuple, bytes] = {}  # a state seen before is shown again without redrawing

    def redraw() -> None:
        key = tuple(
            next(i for i, v in enumerate(p.values) if _same(values[name], v))
            for name, p in params.items()
        )
        try:
            if key not in drawn:
                drawn[key] = render_png(draw(**values), dpi=dpi, compress_level=_LIVE_COMPRESSION)
            image.value = drawn[key]
            message.value = ""
        except Exception as error:  # show the error in the cell, keep the controls alive
            message.value = f"<pre style='color:#b00'>{html.escape(repr(error))}</pre>"

    controls = []
    play_done = not play
    for name, p in params.items():
        label = p.label or name
        options = list(zip(p.value_labels(), p.values))
        if p.numeric:
            control = w.SelectionSlider(
                options=options, value=p.default, description=label,
                continuous_update=True, style={"description_width": "initial"},
            )
        elif len(p.values) <= 4:
            control = w.ToggleButtons(options=options, value=p.default, description=label)
        else:
            control = w.Dropdown(options=options, value=p.default, description=label)

        def on_change(change: dict, name: str = name) -> None:
            values[name] = change["new"]
            redraw()

        control.observe(on_change, names="value")
        if p.numeric and not play_done:
            player = w.Play(min=0, max=len(p.values) - 1, value=p.default_index, interval=200)
            w.jslink((player, "value"), (control, "index"))
            control = w.HBox([player, control])
            play_done = True
        controls.append(control)
    redraw()
    return w.VBox([w.HBox(controls, layout=w.Layout(flex_flow="row wrap")), image, message])


def explore(
    draw: Callable[..., Any],
    /,
    *,
    static: bool | None = None,
    play: bool = False,
    dpi: int = 80,
    max_frames: int = 150,
    **params: Any,
) -> Any:
    """Make an interactive figure: controls for ``params`` that redraw ``draw(**values)``.

    Parameters
    ----------
    draw : callable
        ``draw(**values) -> matplotlib.figure.Figure`` draws one state; it is called with
        one value of every parameter, by name. Give the figure a fixed size and layout
        (e.g. ``layout="constrained"``) so every frame has the same size.
    static : bool, optional
        Force the static (pre-rendered) or the live (ipywidgets) version. When None,
        static exactly when the environment variable ``CONVLIB_STATIC`` is ``"1"``.
    play : bool, default False
        Add a play button that steps the first numeric parameter through its values.
    dpi : int, default 80
        Resolution of the rendered figure.
    max_frames : int, default 150
        Refuse (``ValueError``) static cells with more parameter combinations than this.
    **params : list, tuple, range or Param
        One control per keyword, in order. Numbers give a slider; other values
        (strings) give buttons or a drop-down list. The first value is the default
        unless a :class:`Param` says otherwise. Names in ``RESERVED`` cannot be used.

    Returns
    -------
    StaticExplorer or ipywidgets.VBox
        Display it (make it the last expression of the cell).

    Raises
    ------
    TypeError
        If ``draw`` is not callable, does not return a figure, or no parameter is given.
    ValueError
        If a parameter has no values or the static grid is larger than ``max_frames``.

    See Also
    --------
    time_redraw : how long one live redraw takes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> def draw(shift):
    ...     fig, ax = plt.subplots(figsize=(2, 1))
    ...     ax.plot([shift, shift + 1], [0, 1])
    ...     return fig
    >>> explore(draw, shift=range(5), static=True)
    <convlib interactive figure: shift[5]; 5 distinct frames>
    """
    if not callable(draw):
        raise TypeError(f"draw must be a callable returning a figure, got {type(draw).__name__}")
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Integral) or dpi < 10:
        raise ValueError(f"dpi must be an integer of at least 10, got {dpi!r}")
    resolved = _as_params(params)
    if is_static(static):
        return StaticExplorer(draw, resolved, play=play, dpi=int(dpi), max_frames=max_frames)
    return _live(draw, resolved, play=play, dpi=int(dpi))


def time_redraw(
    draw: Callable[..., Any], /, *, repeat: int = 5, dpi: int = 80, **params: Any
) -> float:
    """Median seconds of one live redraw (``draw`` at the defaults, then the PNG encoding).

    This is what a reader waits for after moving a control with a live kernel
    (the chapters aim for less than 0.1 s).

    Parameters
    ----------
    draw : callable
        The cell's draw function.
    repeat : int, default 5
        Number of timed redraws (after one untimed warm-up).
    dpi : int, default 80
        Resolution, as in :func:`explore`.
    **params : list, tuple, range or Param
        The cell's parameters, as given to :func:`explore`.

    Returns
    -------
    float
        The median time in seconds.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> def draw(n):
    ...     fig, ax = plt.subplots(figsize=(2, 1))
    ...     ax.plot(range(n))
    ...     return fig
    >>> time_redraw(draw, n=[3, 10], repeat=2) > 0
    True
    """
    as_int(repeat, "repeat", minimum=1)
    resolved = _as_params(params)
    values = {name: p.default for name, p in resolved.items()}
    render_png(draw(**values), dpi=dpi, compress_level=_LIVE_COMPRESSION)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        render_png(draw(**values), dpi=dpi, compress_level=_LIVE_COMPRESSION)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
