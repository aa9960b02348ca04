"""Every public function of convlib documents itself with a runnable example.

The examples themselves run as doctests (pytest.ini: --doctest-modules); this file
checks that none is missing, so that a new public function cannot skip one.
"""
import importlib
import inspect

import pytest

import convlib

PUBLIC_MODULES = [
    "signals", "kernels", "plotting", "widgets", "timing", "training", "grading", "claims",
]


def public_callables():
    for name in convlib._PUBLIC:
        yield f"convlib.{name}", getattr(convlib, name)
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(f"convlib.{module_name}")
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith("convlib"):
                yield f"convlib.{module_name}.{name}", obj


CALLABLES = dict(public_callables())


def test_the_public_api_is_not_empty():
    assert len(CALLABLES) > 40


@pytest.mark.parametrize("qualname", sorted(CALLABLES))
def test_public_docstring_has_numpydoc_sections_and_an_example(qualname):
    doc = inspect.getdoc(CALLABLES[qualname]) or ""
    assert doc, f"{qualname} has no docstring"
    assert "Examples\n--------" in doc and ">>>" in doc, f"{qualname}: no runnable Examples section"
    if inspect.isfunction(CALLABLES[qualname]) and inspect.signature(CALLABLES[qualname]).parameters:
        assert "Parameters\n----------" in doc, f"{qualname}: no Parameters section"
