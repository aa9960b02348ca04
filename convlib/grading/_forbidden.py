"""Forbidden library calls: found statically (AST) and caught at run time (guards).

The static scan resolves the names a graded function uses, through import aliases,
module-level assignments and the helper functions it calls, to dotted paths such
as ``numpy.convolve``, and reports those that an assignment forbids. The run-time
guards replace the forbidden objects in every loaded module of the sandbox's fork
server; during a graded call a guard records the call (the grader then scores the
function 0) and raises :class:`ForbiddenCallError`. A guard never passes through
and keeps no reference to the original (nothing to take out of its closure), so in a
graded run a forbidden function fails at top level too. Originals a notebook captured
before a late guard was installed (``f = scipy.signal.convolve`` at top level) are
found by :func:`captured_originals` from the graded function's reachable objects.
"""
from __future__ import annotations

import ast
import importlib
import re
import sys
from typing import Any, Callable, Iterable

# the library convolutions that no homework may call (the assignments add their own extras)
LIBRARY_CONVOLUTIONS = (
    "numpy.convolve",
    "numpy.correlate",
    "scipy.signal",
    "scipy.ndimage",
    "convlib.convolve",
    "convlib.correlate",
    "convlib.fftconvolve",
    "convlib.convolve2d",
    "convlib.correlate2d",
    "convlib.conv1d",
    "convlib.conv2d",
    "convlib.conv_transpose1d",
    "convlib.conv_transpose2d",
    "torch.conv1d",
    "torch.conv2d",
    "torch.conv_transpose1d",
    "torch.conv_transpose2d",
    "torch.convolution",
    "torch.nn.functional.conv1d",
    "torch.nn.functional.conv2d",
    "torch.nn.functional.conv_transpose1d",
    "torch.nn.functional.conv_transpose2d",
    "torch.nn.Conv1d",
    "torch.nn.Conv2d",
    "torch.nn.ConvTranspose1d",
    "torch.nn.ConvTranspose2d",
)

# other names of the same C functions (guarded like the public ones where they live in a
# module; torch._VF finds them in torch's immutable C class through its __getattr__, so its
# guards are set on the module itself; review() also flags private names)
PRIVATE_ALIASES = (
    "torch._VF.conv1d",
    "torch._VF.conv2d",
    "torch._VF.conv_transpose1d",
    "torch._VF.conv_transpose2d",
    "torch._VF.convolution",
    "torch._VF._convolution",
    "torch._VF.conv_tbc",
    "torch._VF.conv3d",
    "numpy._core.multiarray.correlate",
    "numpy._core.multiarray.correlate2",
    "numpy._core._multiarray_umath.correlate",
    "numpy._core._multiarray_umath.correlate2",
    "torch._C._VariableFunctions.conv1d",
    "torch._C._VariableFunctions.conv2d",
    "torch._C._VariableFunctions.conv_transpose1d",
    "torch._C._VariableFunctions.conv_transpose2d",
    "torch._C._VariableFunctions.convolution",
    "torch._C._VariableFunctions._convolution",
    "torch._convolution",
    "torch.conv_tbc",
    "torch.conv3d",
    "torch.mkldnn_convolution",
    "torch.cudnn_convolution",
    "torch.nn.functional.conv3d",
    "torch.nn.functional.conv_tbc",
)

# never needed by a graded function, forbidden in every assignment (the scan reports them;
# at run time the sandbox's audit hook refuses what a guard cannot catch)
ALWAYS_FORBIDDEN = LIBRARY_CONVOLUTIONS + PRIVATE_ALIASES + (
    "convlib.grading",
    "ctypes",
    "subprocess",
    "multiprocessing",
    "os.fork",
    "os.forkpty",
    "os.system",
    "os.popen",
    "os.kill",
    "os.killpg",
    "gc.get_objects",
    "gc.get_referrers",
)

# modules whose classes a guard must not replace (subclassing them must keep working:
# scipy's own import subclasses ctypes.Structure)
_NOT_GUARDED = ("ctypes", "subprocess", "multiprocessing", "os", "gc")

_MAGIC = re.compile(r"^\s*[%!]")

# cell magics whose body is Python that IPython runs (the body is kept, the magic dropped)
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun", "memit", "debug")


class ForbiddenCallError(RuntimeError):
    """Raised by a guard when a graded function calls a forbidden library function."""


def strip_magics(source: str) -> str:
    """Replace IPython magics and shell escapes by ``pass``.

    A cell magic that runs its body as Python (``%%time``, ``%%timeit``,
    ``%%capture``...) keeps its body; any other cell magic (``%%bash``,
    ``%%html``) empties the cell.

    Examples
    --------
    >>> strip_magics("%matplotlib inline\\nx = 1")
    'pass\\nx = 1'
    >>> strip_magics("%%time\\ndef f():\\n    return 1")
    'pass\\ndef f():\\n    return 1'
    >>> strip_magics("%%bash\\nls")
    ''
    """
    stripped = source.lstrip()
    if stripped.startswith("%%"):
        words = stripped[2:].split()
        if not words or words[0] not in PYTHON_CELL_MAGICS:
            return ""
    lines = []
    for line in source.splitlines():
        if _MAGIC.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            line = indent + "pass"
        lines.append(line)
    return "\n".join(lines)


def matches(path: str, forbidden: Iterable[str]) -> str | None:
    """The forbidden entry that ``path`` falls under, or ``None``.

    ``path`` is forbidden when it is an entry, lies inside one (``scipy.signal.convolve``
    under ``scipy.signal``), or is a same-named object elsewhere in the entry's package
    (``numpy._core.multiarray.correlate`` for ``numpy.correlate``).

    Examples
    --------
    >>> matches("scipy.signal.fftconvolve", ["scipy.signal"])
    'scipy.signal'
    >>> matches("numpy._core.multiarray.correlate", ["numpy.correlate"])
    'numpy.correlate'
    >>> matches("numpy.fft.rfft", ["numpy.convolve"]) is None
    True
    """
    for entry in forbidden:
        if path == entry or path.startswith(entry + "."):
            return entry
        package, _, leaf = entry.partition(".")
        if leaf and "." not in leaf and path.startswith(package + ".") and path.rsplit(".", 1)[-1] == leaf:
            return entry
    return None


# --------------------------------------------------------------------------- static scan


class _Names(ast.NodeVisitor):
    """Dotted names an AST uses (``np.fft.rfft``, ``getattr(np, 'convolve')``...)."""

    def __init__(self) -> None:
        self.chains: list[list[str]] = []
        self.imports: list[tuple[str, str]] = []  # (bound name, dotted module path)

    def _chain(self, node: ast.AST) -> list[str] | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            return [node.id, *reversed(parts)]
        if isinstance(node, ast.Call):  # getattr(x, "name") / __import__("m") / import_module("m")
            inner = self._call_target(node)
            if inner:
                return [*inner, *reversed(parts)]
        return None

    def _call_target(self, node: ast.Call) -> list[str] | None:
        func = node.func
        literal = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "getattr" and len(node.args) >= 2 and len(literal) >= 1:
            base = self._chain(node.args[0])
            if base:
                return [*base, *literal[0].split(".")]
        if name == "import_module" and literal:
            return ["<module>", *literal[0].split(".")]
        if name == "__import__" and literal:  # returns the top-level package
            return ["<module>", literal[0].split(".")[0]]
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = self._chain(node)
        if chain:
            self.chains.append(chain)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self.chains.append([node.id])

    def visit_Call(self, node: ast.Call) -> None:
        target = self._call_target(node)
        if target:
            self.chains.append(target)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        literal = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name == "__import__" and literal:
            self.chains.append(["<module>", *literal[0].split(".")])
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.imports.append((alias.asname, alias.name))
            else:
                top = alias.name.split(".")[0]
                self.imports.append((top, top))
        self.chains.extend([["<module>", *a.name.split(".")] for a in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            path = f"{module}.{alias.name}" if module else alias.name
            if alias.name == "*":
                self.imports.append(("*", module))
            else:
                self.imports.append((alias.asname or alias.name, path))
            self.chains.append(["<module>", *path.split(".")])


def _parse_cells(cells: Iterable[str]) -> list[ast.Module]:
    trees = []
    for source in cells:
        try:
            trees.append(ast.parse(strip_magics(source)))
        except SyntaxError:
            continue
    return trees


def scan(cells: Iterable[str], function: str, forbidden: Iterable[str]) -> list[str]:
    """Forbidden dotted paths that ``function`` (with the helpers it calls) uses.

    Parameters
    ----------
    cells : iterable of str
        The student's code, one string per notebook cell, in order.
    function : str
        The graded function's name.
    forbidden : iterable of str
        The assignment's forbidden paths (:data:`ALWAYS_FORBIDDEN` is added).

    Returns
    -------
    list of str
        Sorted forbidden paths used, e.g. ``['numpy.convolve']``; empty if none.

    Examples
    --------
    >>> cells = ["import numpy as np\\nconv = np.convolve",
    ...          "def helper(a, b):\\n    return conv(a, b)",
    ...          "def convolve_full(x, h):\\n    return helper(x, h)"]
    >>> scan(cells, "convolve_full", ["numpy.convolve"])
    ['numpy.convolve']
    >>> scan(["def f(x):\\n    return x[::-1]"], "f", ["numpy.convolve"])
    []
    """
    forbidden = tuple(forbidden) + ALWAYS_FORBIDDEN
    trees = _parse_cells(cells)
    aliases: dict[str, str] = {}
    star_modules: list[str] = []
    definitions: dict[str, list[ast.AST]] = {}
    assignments: dict[str, list[ast.AST]] = {}
    for tree in trees:
        names = _Names()
        names.visit(tree)
        for bound, path in names.imports:
            if bound == "*":
                star_modules.append(path)
            else:
                aliases[bound] = path
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                definitions.setdefault(node.name, []).append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            assignments.setdefault(name.id, []).append(node.value)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.FunctionDef, ast.ClassDef)):
                        definitions.setdefault(inner.name, []).append(inner)
    for module in star_modules:  # from numpy import *: bare forbidden leaf names resolve
        for entry in forbidden:
            if entry.startswith(module + ".") and "." not in entry[len(module) + 1 :]:
                aliases.setdefault(entry[len(module) + 1 :], entry)

    found: set[str] = set()
    seen: set[str] = set()
    todo = [function]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        nodes = definitions.get(name, []) + assignments.get(name, [])
        for node in nodes:
            names = _Names()
            names.visit(node)
            local_aliases = dict(aliases)
            local_aliases.update(dict(names.imports))
            for chain in names.chains:
                head, rest = chain[0], chain[1:]
                if head == "<module>":
                    path = ".".join(rest)
                elif head in local_aliases:
                    path = ".".join([local_aliases[head], *rest])
                else:
                    if head in definitions or head in assignments:
                        todo.append(head)
                    continue
                entry = matches(path, forbidden)
                if entry is not None:
                    found.add(path if len(path) <= len(entry) + 40 else entry)
    # report the most specific paths: drop "scipy.signal" when "scipy.signal.oaconvolve" is there
    return sorted(p for p in found if not any(q.startswith(p + ".") for q in found))


# names only cheating needs in homework code: attribute names, and private module attributes
REVIEW_ATTRIBUTES = frozenset({
    "__closure__", "__globals__", "__code__", "cell_contents", "__wrapped__", "__wrapped_forbidden__",
    "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "__subclasses__",
    "__builtins__", "_getframe", "_current_frames", "get_objects", "get_referrers", "get_referents",
    "settrace", "setprofile", "addaudithook", "GuardState", "modules", "_ORIGINALS", "_ORIGINAL_IDS",
})
REVIEW_MODULES = frozenset({"gc", "ctypes", "marshal", "pickle", "importlib", "inspect", "_thread",
                            "threading", "signal", "resource", "socket", "sqlite3", "pty", "mmap"})


def review(cells: Iterable[str]) -> list[str]:
    """What in a notebook's code only cheating needs (flags the notebook for review).

    Introspection of frames, closures, code objects and the garbage collector, the
    modules that reach past Python (``ctypes``, ``marshal``, ``signal``...), and
    private attributes of numpy, scipy, torch or convlib (``np._core``, ``torch._VF``).
    Ordinary numpy code never matches.

    Examples
    --------
    >>> review(["import numpy as np\\ndef f(x):\\n    return np.flip(x)"])
    []
    >>> review(["import numpy as np\\nc = np._core.multiarray.correlate2"])
    ['np._core']
    >>> review(["import gc\\nobjs = gc.get_objects()"])
    ['get_objects', 'import gc']
    """
    found: set[str] = set()
    for tree in _parse_cells(cells):
        libraries: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for alias, name in zip(node.names, names):
                    top = name.split(".")[0]
                    if top in REVIEW_MODULES:
                        found.add(f"import {top}")
                    if top in ("numpy", "scipy", "torch", "convlib"):
                        libraries.add(alias.asname or alias.name.split(".")[0]
                                      if isinstance(node, ast.Import) else alias.asname or alias.name)
                    if any(part.startswith("_") and not part.startswith("__") for part in name.split(".")):
                        found.add(name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                if node.attr in REVIEW_ATTRIBUTES:
                    found.add(node.attr)
                if (node.attr.startswith("_") and not node.attr.startswith("__")
                        and isinstance(node.value, ast.Name) and node.value.id in libraries):
                    found.add(f"{node.value.id}.{node.attr}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in REVIEW_ATTRIBUTES:
                found.add(node.value)
            elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__"):
                found.add(node.id)
    return sorted(found)


# --------------------------------------------------------------------------- run-time guards


class GuardState:
    """Where a guard reports a hit (the sandbox's child sets ``report``)."""

    report: Callable[[str], None] | None = None


# the originals the guards replaced, kept alive (so that their ids stay theirs) until the
# sandbox's child has checked what the graded function captured; it then calls forget_originals()
_ORIGINAL_IDS: dict[int, str] = {}
_ORIGINALS: list[Any] = []


def forget_originals() -> None:
    """Drop the references to the replaced originals (in the child, before any graded call)."""
    _ORIGINALS.clear()


def _make_guard(path: str, original: Any) -> Callable[..., Any]:
    name = getattr(original, "__name__", "guard")
    _ORIGINAL_IDS[id(original)] = path
    _ORIGINALS.append(original)

    def guard(*args: Any, **kwargs: Any) -> Any:
        if GuardState.report is not None:
            GuardState.report(path)
        raise ForbiddenCallError(f"{path} is not allowed in this assignment (not even at top level "
                                 "while grading)")

    guard.__name__ = name
    guard.__qualname__ = name
    guard.__wrapped_forbidden__ = path
    return guard


def captured_originals(start: Any, *, limit: int = 20000) -> list[str]:
    """Paths of guarded originals reachable from ``start`` (a graded function).

    Follows what a call can reach: closures, defaults, the globals its code names,
    bound methods, ``functools.partial``, containers and class dictionaries.

    Examples
    --------
    >>> captured_originals(lambda x: x)
    []
    """
    import functools
    import types

    found: set[str] = set()
    seen: set[int] = set()
    todo = [start]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, complex, bool, type(None))):
            continue
        seen.add(id(obj))
        if id(obj) in _ORIGINAL_IDS:
            found.add(_ORIGINAL_IDS[id(obj)])
            continue
        if isinstance(obj, types.ModuleType):
            continue
        if isinstance(obj, types.FunctionType):
            todo += [c.cell_contents for c in (obj.__closure__ or ()) if _has_contents(c)]
            todo += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
            codes = [obj.__code__]
            while codes:
                code = codes.pop()
                for name in code.co_names:
                    if name in obj.__globals__:
                        todo.append(obj.__globals__[name])
                codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        elif isinstance(obj, types.MethodType):
            todo += [obj.__func__, obj.__self__]
        elif isinstance(obj, functools.partial):
            todo += [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, dict):
            todo += list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
        elif isinstance(obj, type):
            todo += list(vars(obj).values())
        elif hasattr(obj, "__dict__") and isinstance(getattr(obj, "__dict__", None), dict):
            todo += list(vars(obj).values())
    return sorted(found)


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _resolve(path: str, import_missing: bool = True) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if not import_missing and name not in sys.modules:
            continue
        try:
            obj = importlib.import_module(name)
        except Exception:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(path)


def install_guards(forbidden: Iterable[str], *, import_missing: bool = False,
                   modules: Iterable[str] | None = None) -> list[str]:
    """Replace every forbidden object, in every loaded module, by a guard.

    Meant for the sandbox only (the trusted grader never calls it). Only modules
    already imported are guarded unless ``import_missing``; the sandbox calls it
    again after a student's cells import more, with ``modules`` the names of the
    modules imported since: while every forbidden object found was guarded before,
    only those modules can hold an unguarded reference, and walking every module
    (and copying its pages in a forked child) is skipped. A module that finds a
    forbidden name through its ``__getattr__`` (``torch._VF``) gets the guard as an
    attribute of its own. Returns the paths guarded.
    """
    targets: dict[int, tuple[str, Any]] = {}
    dynamic: list[tuple[str, Any, str, int]] = []
    leaf_names: dict[str, tuple[str, str]] = {}  # leaf -> (package, entry)
    for entry in forbidden:
        if entry.split(".")[0] == "torch" and "torch" not in sys.modules:
            continue  # importing torch only to guard it costs seconds: preload it if needed
        try:
            obj = _resolve(entry, import_missing)
        except Exception:
            continue
        if getattr(obj, "__wrapped_forbidden__", None) is not None:
            continue
        if entry.split(".")[0] in _NOT_GUARDED:
            continue  # refused by the sandbox's audit hook instead
        if isinstance(obj, type(sys)):
            for name in dir(obj):
                value = getattr(obj, name, None)
                if (not name.startswith("_") and callable(value) and not isinstance(value, (type(sys), type))
                        and getattr(value, "__wrapped_forbidden__", None) is None):
                    targets.setdefault(id(value), (f"{entry}.{name}", value))
        elif callable(obj):
            targets.setdefault(id(obj), (entry, obj))
            package, _, leaf = entry.partition(".")
            if leaf and "." not in leaf:
                leaf_names[leaf] = (package, entry)
            parent_name, _, attribute = entry.rpartition(".")
            parent = sys.modules.get(parent_name)
            if parent is not None and attribute not in getattr(parent, "__dict__", {attribute: None}):
                dynamic.append((parent_name, parent, attribute, id(obj)))  # found by __getattr__
    fresh = set(targets) - set(_ORIGINAL_IDS)  # never guarded before (in the modules loaded then)
    guards = {key: _make_guard(path, obj) for key, (path, obj) in targets.items()}
    guarded = set()
    for parent_name, parent, attribute, key in dynamic:
        try:
            setattr(parent, attribute, guards[key])
            guarded.add(f"{parent_name}.{attribute}")
        except (AttributeError, TypeError):
            continue
    if modules is not None and not fresh:  # nothing new to guard: only the new modules' references
        walk = [(name, sys.modules[name]) for name in sorted(set(modules)) if name in sys.modules]
    else:
        walk = list(sys.modules.items())
    for module_name, module in walk:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module_name.startswith("convlib.grading"):
            continue
        package = module_name.split(".")[0]
        for name, value in list(namespace.items()):
            guard = guards.get(id(value))
            if guard is not None and targets[id(value)][1] is not value:
                guard = None
            if guard is None and name in leaf_names and leaf_names[name][0] == package and callable(value):
                if getattr(value, "__wrapped_forbidden__", None) is None:
                    guard = _make_guard(f"{module_name}.{name}", value)
            if guard is not None:
                try:
                    setattr(module, name, guard)
                    guarded.add(f"{module_name}.{name}")
                except (AttributeError, TypeError):
                    continue
    return sorted(guarded)
