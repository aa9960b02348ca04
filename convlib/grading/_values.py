"""Values as plain data, and their byte encoding between the sandbox and the grader.

Whatever a student's function returns is turned, *inside the sandbox*, into plain
data: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, tuples and lists
of those, NumPy arrays of a numeric dtype, :class:`TensorData` (a torch tensor's
values, device and dtype) or :class:`Opaque` (anything else: its type name and a
short repr). The bytes that carry it hold JSON and ``.npy`` blobs only; the trusted
grader decodes them with ``allow_pickle=False`` and never unpickles student objects.
"""
from __future__ import annotations

import io
import json
import struct
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

_np_array = np.array  # captured before any student code runs
_np_asarray = np.asarray
_np_save = np.save
_np_load = np.load

MAX_DEPTH = 4
MAX_ITEMS = 64
MAX_BYTES = 64 * 1024 * 1024
_NUMERIC_KINDS = "biufc"


@dataclass(frozen=True)
class TensorData:
    """A torch tensor as plain data: its values (on the CPU), device and dtype."""

    array: np.ndarray
    device: str  # "cpu", "cuda:0"
    dtype: str  # "torch.float32"
    requires_grad: bool = False


@dataclass(frozen=True)
class Opaque:
    """A value that is not plain data: what it was, for the feedback."""

    type_name: str
    text: str


def _short_repr(value: Any, limit: int = 120) -> str:
    try:
        text = repr(value)
    except BaseException:  # a student's __repr__ may raise anything
        text = "<repr failed>"
    if not isinstance(text, str):
        text = "<repr failed>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _numeric_array(value: list | tuple) -> np.ndarray | Opaque:
    """A long or deeply nested list/tuple as ``np.asarray`` converts it, if that is numeric.

    The comparison accepts short lists the same way (see
    :func:`convlib.grading.compare.find_mismatch`), so one rule holds for every length:
    array-likes of numbers are accepted, anything else is reported as a list or tuple.
    """
    try:
        array = _np_asarray(value)
    except BaseException:  # ragged, or items whose conversion raises: not an array-like
        array = None
    if isinstance(array, np.ndarray) and array.dtype.kind in _NUMERIC_KINDS:
        return _np_array(array, copy=True)
    return Opaque(type(value).__name__, _short_repr(value))


def to_plain(value: Any, *, _depth: int = 0) -> Any:
    """Convert ``value`` into plain data (copies arrays; never keeps student objects).

    Lists and tuples stay lists and tuples; one too long (over ``MAX_ITEMS`` items) or
    too deep to send item by item becomes the array ``np.asarray`` makes of it when
    that is numeric, so a function may return a list of any length.

    Examples
    --------
    >>> to_plain([1.0, 2.0])
    [1.0, 2.0]
    >>> to_plain([0.5] * 1000).shape
    (1000,)
    >>> to_plain(["a"] * 1000).type_name
    'list'
    """
    if value is None or type(value) in (bool, int, float, complex, str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS:
            return Opaque(f"ndarray of dtype {value.dtype}", _short_repr(value))
        return _np_array(value.view(np.ndarray), copy=True)
    if _is_tensor(value):
        data = value.detach().to("cpu").resolve_conj().resolve_neg().numpy()
        return TensorData(_np_array(data, copy=True), str(value.device), str(value.dtype),
                          bool(value.requires_grad))
    if type(value) in (tuple, list):
        if _depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            # too long or deep to send item by item: what np.asarray makes of it, if numeric
            return _numeric_array(value)
        items = [to_plain(item, _depth=_depth + 1) for item in value]
        return tuple(items) if type(value) is tuple else items
    if type(value) is dict:
        if _depth >= MAX_DEPTH or len(value) > MAX_ITEMS or not all(type(k) is str for k in value):
            return Opaque("dict", _short_repr(value))
        return {key: to_plain(item, _depth=_depth + 1) for key, item in value.items()}
    return Opaque(type(value).__name__, _short_repr(value))


def from_plain(value: Any, *, device: str = "cpu") -> Any:
    """Rebuild call arguments from plain data: fresh arrays, tensors on ``device``."""
    if isinstance(value, np.ndarray):
        return _np_array(value, copy=True)
    if isinstance(value, TensorData):
        import torch

        tensor = torch.as_tensor(_np_array(value.array, copy=True))
        dtype = getattr(torch, value.dtype.removeprefix("torch."))
        tensor = tensor.to(device=device, dtype=dtype)
        return tensor.requires_grad_(value.requires_grad)
    if isinstance(value, tuple):
        return tuple(from_plain(item, device=device) for item in value)
    if isinstance(value, list):
        return [from_plain(item, device=device) for item in value]
    if isinstance(value, dict):
        return {key: from_plain(item, device=device) for key, item in value.items()}
    return value


def on_device(value: Any, device: str) -> Any:
    """``value`` with every torch tensor in it moved to ``device`` (others unchanged)."""
    if device == "cpu":
        return value
    if _is_tensor(value):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(on_device(item, device) for item in value)
    if isinstance(value, dict):
        return {key: on_device(item, device) for key, item in value.items()}
    return value


# --------------------------------------------------------------------------- encoding


def _encode_node(value: Any, blobs: list[bytes]) -> Any:
    if value is None:
        return {"t": "none"}
    if type(value) is bool:
        return {"t": "bool", "v": value}
    if type(value) is int:
        return {"t": "int", "v": str(value)}
    if type(value) is float:
        return {"t": "float", "v": repr(value)}
    if type(value) is complex:
        return {"t": "complex", "re": repr(value.real), "im": repr(value.imag)}
    if type(value) is str:
        return {"t": "str", "v": value[:10_000]}
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        _np_save(buffer, value, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"t": "array", "i": len(blobs) - 1}
    if isinstance(value, TensorData):
        node = _encode_node(value.array, blobs)
        return {"t": "tensor", "i": node["i"], "device": value.device, "dtype": value.dtype,
                "grad": bool(value.requires_grad)}
    if isinstance(value, (tuple, list)):
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "items": [_encode_node(item, blobs) for item in value]}
    if isinstance(value, dict):
        return {"t": "dict", "items": [[str(k), _encode_node(v, blobs)] for k, v in value.items()]}
    if isinstance(value, Opaque):
        return {"t": "opaque", "type": value.type_name[:200], "text": value.text[:200]}
    raise TypeError(f"value must be plain data (see to_plain), got {type(value).__name__}")


def encode(value: Any) -> bytes:
    """Bytes for plain data ``value``: a JSON header, then ``.npy`` blobs."""
    blobs: list[bytes] = []
    header = json.dumps(_encode_node(value, blobs), separators=(",", ":")).encode()
    parts = [struct.pack("!II", len(header), len(blobs)), header]
    for blob in blobs:
        parts += [struct.pack("!Q", len(blob)), blob]
    return b"".join(parts)


class DecodeError(ValueError):
    """Bytes from the sandbox that are not a valid encoding."""


def _decode_node(node: Any, blobs: list[np.ndarray], depth: int) -> Any:
    if depth > MAX_DEPTH + 2 or not isinstance(node, dict):
        raise DecodeError("malformed value")
    kind = node.get("t")
    if kind == "none":
        return None
    if kind == "bool":
        return bool(node["v"])
    if kind == "int":
        return int(str(node["v"])[:400])
    if kind == "float":
        return float(node["v"])
    if kind == "complex":
        return complex(float(node["re"]), float(node["im"]))
    if kind == "str":
        return str(node["v"])
    if kind in ("array", "tensor"):
        array = blobs[int(node["i"])]
        if kind == "array":
            return array
        return TensorData(array, str(node["device"]), str(node["dtype"]), bool(node["grad"]))
    if kind in ("tuple", "list"):
        items = [_decode_node(item, blobs, depth + 1) for item in node["items"][:MAX_ITEMS]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {str(k): _decode_node(v, blobs, depth + 1) for k, v in node["items"][:MAX_ITEMS]}
    if kind == "opaque":
        return Opaque(str(node["type"])[:200], str(node["text"])[:200])
    raise DecodeError(f"unknown value kind {kind!r}")


def decode(data: bytes) -> Any:
    """Plain data from :func:`encode`'s bytes; raises :class:`DecodeError` if malformed."""
    try:
        if len(data) > MAX_BYTES:
            raise DecodeError("value too large")
        header_size, n_blobs = struct.unpack_from("!II", data, 0)
        offset = 8
        header = json.loads(data[offset : offset + header_size])
        offset += header_size
        blobs = []
        for _ in range(min(n_blobs, 4 * MAX_ITEMS)):
            (size,) = struct.unpack_from("!Q", data, offset)
            offset += 8
            array = _np_load(io.BytesIO(data[offset : offset + size]), allow_pickle=False)
            if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
                raise DecodeError("non-numeric array")
            blobs.append(array)
            offset += size
        return _decode_node(header, blobs, 0)
    except DecodeError:
        raise
    except Exception as error:  # struct, json, numpy: all mean "malformed"
        raise DecodeError(f"malformed value ({type(error).__name__})") from None
