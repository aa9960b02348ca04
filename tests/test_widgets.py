"""Tests for convlib.widgets: both back ends of explore(), the Param contract, time_redraw."""
import base64
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convlib import widgets  # noqa: E402
from convlib.widgets import Param, explore  # noqa: E402

CALLS = []


def draw(width, mode="full"):
    CALLS.append((width, mode))
    fig, ax = plt.subplots(figsize=(2, 1.5), layout="constrained")
    ax.plot(np.arange(width), np.arange(width) ** (2 if mode == "full" else 1))
    ax.set_title(mode)
    return fig


def payload(html):
    match = re.search(r'<script type="application/json" class="convlib-explore-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_param_default_is_first_value_unless_given():
    assert Param([4, 5, 6]).default == 4
    assert Param([4, 5, 6], default=6).default_index == 2


def test_param_rejects_default_outside_values_and_empty_values():
    with pytest.raises(ValueError, match="default must be one of"):
        Param([1, 2], default=3)
    with pytest.raises(ValueError, match="at least one value"):
        Param([])
    with pytest.raises(TypeError, match="values must be a list"):
        Param("abc")


def test_param_bool_values_are_not_numeric():
    assert not Param([True, False]).numeric
    assert Param(range(3)).numeric


def test_static_renders_every_combination_once(monkeypatch):
    CALLS.clear()
    cell = explore(draw, width=[2, 3, 4], mode=["full", "valid"], static=True)
    assert sorted(CALLS) == sorted((w, m) for w in (2, 3, 4) for m in ("full", "valid"))
    assert cell.n_frames == 6
    assert plt.get_fignums() == []  # every rendered figure was closed


def test_static_html_is_self_contained_and_starts_at_default():
    cell = explore(draw, width=Param([2, 3, 4], default=3), mode=["full", "valid"], static=True)
    html = cell._repr_html_()
    assert "http://" not in html and "https://" not in html and "require(" not in html
    data = payload(html)
    assert data["sizes"] == [3, 2] and len(data["frameOf"]) == 6
    first = re.search(r'class="convlib-explore-frame"[^>]*src="data:image/png;base64,([^"]+)"', html).group(1)
    # row-major flat index of (width=3 -> 1, mode='full' -> 0) is 1 * 2 + 0 = 2
    assert first == data["frames"][data["frameOf"][2]]
    assert base64.b64decode(first)[:4] == b"\x89PNG"
    assert 'type="range"' in html and "<select" in html


def test_static_frames_differ_when_the_picture_differs_and_are_shared_when_equal():
    def draw_even(n):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, n % 2])
        return fig

    cell = explore(draw_even, n=range(4), static=True)
    assert cell.n_frames == 4 and len(cell.frames) == 2
    assert cell.frame_of == [0, 1, 0, 1]


def test_static_refuses_too_many_frames():
    with pytest.raises(ValueError, match="max_frames"):
        explore(draw, width=range(2, 20), mode=["a", "b", "c"], static=True, max_frames=20)


def test_play_button_only_when_asked():
    assert "<button" not in explore(draw, width=[2, 3], static=True)._repr_html_()
    assert "<button" in explore(draw, width=[2, 3], static=True, play=True)._repr_html_()


def test_environment_variable_selects_static(monkeypatch):
    monkeypatch.setenv("CONVLIB_STATIC", "1")
    assert isinstance(explore(draw, width=[2]), widgets.StaticExplorer)
    monkeypatch.setenv("CONVLIB_STATIC", "0")
    assert not isinstance(explore(draw, width=[2]), widgets.StaticExplorer)


def test_live_controls_redraw_the_image():
    import ipywidgets

    box = explore(draw, width=[2, 3, 4], mode=["full", "valid"], static=False, play=True)
    controls, image = box.children[0].children, box.children[1]
    assert isinstance(image, ipywidgets.Image)
    first = image.value
    slider = controls[0].children[1]
    assert isinstance(controls[0].children[0], ipywidgets.Play)
    slider.value = 4
    assert image.value != first
    second = image.value
    controls[1].value = "valid"
    assert image.value != second
    assert box.children[2].value == ""


def test_live_shows_draw_errors_in_the_cell():
    def broken(n):
        if n > 1:
            raise RuntimeError("boom")
        return draw(2)

    box = explore(broken, n=[1, 2], static=False)
    box.children[0].children[0].value = 2
    assert "boom" in box.children[2].value


def test_draw_must_return_a_figure():
    with pytest.raises(TypeError, match="matplotlib.figure.Figure"):
        explore(lambda n: None, n=[1], static=True)


def test_explore_needs_a_parameter_and_a_callable():
    with pytest.raises(TypeError, match="at least one parameter"):
        explore(draw, static=True)
    with pytest.raises(TypeError, match="draw must be a callable"):
        explore(3, n=[1])


def test_time_redraw_times_the_default_state():
    CALLS.clear()
    seconds = widgets.time_redraw(draw, width=Param([2, 5], default=5), repeat=3)
    assert seconds > 0
    assert CALLS == [(5, "full")] * 4  # one warm-up, three timed


def test_live_shows_a_state_seen_before_without_drawing_it_again():
    box = explore(draw, width=[2, 3], static=False)
    slider, image = box.children[0].children[0], box.children[1]
    first = image.value
    slider.value = 3
    CALLS.clear()
    slider.value = 2
    assert CALLS == [] and image.value == first


def test_glue_shows_a_figure_in_a_notebook_without_myst_nb(monkeypatch):
    """A reader's Jupyter has no myst-nb: a glued figure must still appear, a value not."""
    import sys

    import IPython.display
    import matplotlib.pyplot as plt

    from convlib.widgets import glue

    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb -> ImportError
    monkeypatch.setattr(IPython.display, "display", lambda value: shown.append(value))
    fig = plt.figure()
    glue("fig-x", fig, display=False)
    glue("ratio", 5.4, display=False)
    glue("shown-ratio", 2.5, display=True)
    plt.close(fig)
    assert shown == [fig, 2.5]


def test_glue_rejects_a_missing_name():
    from convlib.widgets import glue

    with pytest.raises(TypeError, match="name"):
        glue("", 1)
