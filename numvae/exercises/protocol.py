"""The wire format between the grader and the child that runs a student's file: data only.

A message is a frame: 8 bytes of length (big-endian), then 4 bytes of header length, a
JSON header, and the raw bytes of the arrays it mentions. The header is a JSON object
whose payload fields (arguments, return values) are *values*:

    null, true/false, numbers (NaN and infinities included), short strings
    {"list": [v, ...]}   {"tuple": [v, ...]}   {"dict": [[key, v], ...]}  (keys str or int)
    {"array": [i, dtype, shape]}   the i-th buffer, a numeric dtype, e.g. "<f8", [5, 3]
    {"ref": i, "type": name}       an object the child keeps (a student's cache, say)
    {"callback": i}                a function of the grader's that the child may call

Nothing in a value can carry code: no pickle, no object arrays, no dtype outside a closed
list of booleans, integers, floats and complex numbers. Arrays travel as raw bytes with
dtype and shape in the header; reading them is ``np.frombuffer`` on a checked length,
about 25 times faster than parsing a .npy header (which numpy does with literal_eval)
and just as unable to run anything. The grader decodes whatever the child sends with
``decode(..., strict=True)``: any deviation (a frame over the size limit, bad JSON, a
value that is not one of the above, too deep, too many nodes, a string over the length
limit, an integer over 4300 digits, a buffer of the wrong length) raises ProtocolError,
and the grader then counts the check as failed and starts a new child.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_FRAME_BYTES = 64 * 1024 * 1024  # a reply larger than this is refused unread
MAX_DEPTH = 24
MAX_NODES = 200_000
MAX_STRING = 20_000
MAX_NDIM = 32
_LENGTH = struct.Struct(">Q")
_HEADER = struct.Struct(">I")
_NUMERIC = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
            np.float16, np.float32, np.float64, np.complex64, np.complex128)
DTYPES = frozenset(np.dtype(t).newbyteorder(order).str for t in _NUMERIC for order in "<>")


class ProtocolError(Exception):
    """A frame or value that does not follow the format above."""


@dataclass(frozen=True)
class Ref:
    """An object that stayed in the child (it is not data); the grader can only pass it back."""

    id: int
    type: str


@dataclass(frozen=True)
class Callback:
    """A grader-side function handed to the student's code; each call is a round trip."""

    fn: Callable


# ----- encoding -----------------------------------------------------------------------------------

class _Encoder:
    def __init__(self, on_object: Callable | None, on_callback: Callable | None):
        self.buffers: list[bytes] = []
        self.on_object = on_object  # child side: keep an unencodable object, return its Ref
        self.on_callback = on_callback  # grader side: register a Callback, return its id

    def value(self, v, depth: int = 0):
        if depth > MAX_DEPTH:
            return self.other(v)
        if v is None or isinstance(v, (bool, str)):
            return v[:MAX_STRING] if isinstance(v, str) else v
        if isinstance(v, (int, float)) and not isinstance(v, np.generic):
            return v if isinstance(v, float) or abs(v) < 10 ** 4000 else float(v)
        if isinstance(v, np.generic):
            if isinstance(v, np.bool_):
                return bool(v)
            if isinstance(v, np.integer):
                return int(v)
            if isinstance(v, np.floating) and v.dtype == np.float64:
                return float(v)
            v = np.asarray(v)
        if isinstance(v, np.ndarray):
            return self.array(v)
        if isinstance(v, Ref):
            return {"ref": v.id, "type": v.type}
        if isinstance(v, Callback) and self.on_callback is not None:
            return {"callback": self.on_callback(v)}
        if type(v) is list:
            return {"list": [self.value(x, depth + 1) for x in v]}
        if type(v) is tuple:
            return {"tuple": [self.value(x, depth + 1) for x in v]}
        if type(v) is dict and all(type(k) in (str, int) for k in v):
            return {"dict": [[k, self.value(x, depth + 1)] for k, x in v.items()]}
        return self.other(v)

    def array(self, a: np.ndarray):
        a = np.asarray(a)
        if a.dtype.str not in DTYPES or a.ndim > MAX_NDIM:
            return self.other(a)
        data = np.ascontiguousarray(a).tobytes()
        self.buffers.append(data)
        return {"array": [len(self.buffers) - 1, a.dtype.str, list(a.shape)]}

    def other(self, v):
        if self.on_object is None:
            raise TypeError(f"cannot send a {type(v).__name__}")
        return self.on_object(v)


def encode(message: dict, payload: tuple[str, ...] = (), *, on_object: Callable | None = None,
           on_callback: Callable | None = None) -> bytes:
    """One frame: ``message``'s plain JSON fields as they are, its ``payload`` fields as values."""
    encoder = _Encoder(on_object, on_callback)
    header = {k: (encoder.value(v) if k in payload else v) for k, v in message.items()}
    header["buffers"] = [len(b) for b in encoder.buffers]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body = b"".join([_HEADER.pack(len(text)), text, *encoder.buffers])
    return _LENGTH.pack(len(body)) + body


# ----- decoding -----------------------------------------------------------------------------------

def frame_length(prefix: bytes, limit: int = MAX_FRAME_BYTES) -> int:
    """The body length announced by a frame's first 8 bytes, refused above ``limit``."""
    (length,) = _LENGTH.unpack(prefix)
    if length > limit:
        raise ProtocolError(f"a message of {length} bytes (the limit is {limit})")
    if length < _HEADER.size:
        raise ProtocolError("a message too short to hold a header")
    return length


class _Decoder:
    def __init__(self, buffers: list[memoryview], make_callback: Callable | None, objects: dict | None):
        self.buffers = buffers
        self.make_callback = make_callback  # child side: a callback id -> a function
        self.objects = objects  # child side: ref id -> the object kept
        self.nodes = 0

    def value(self, v, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH + 1:
            raise ProtocolError("a value too large or too deeply nested")
        if v is None or isinstance(v, (bool, float)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, str):
            if len(v) > MAX_STRING:
                raise ProtocolError("a string over the length limit")
            return v
        if not isinstance(v, dict):
            raise ProtocolError(f"a bare JSON {type(v).__name__} where a tagged value belongs")
        if len(v) == 1:
            ((tag, body),) = v.items()
            if tag in ("list", "tuple") and isinstance(body, list):
                items = [self.value(x, depth + 1) for x in body]
                return items if tag == "list" else tuple(items)
            if tag == "dict" and isinstance(body, list):
                out = {}
                for pair in body:
                    if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
                        raise ProtocolError("a dict entry that is not [str or int key, value]")
                    if isinstance(pair[0], str) and len(pair[0]) > MAX_STRING:
                        raise ProtocolError("a string over the length limit")
                    out[pair[0]] = self.value(pair[1], depth + 1)
                return out
            if tag == "array" and isinstance(body, list):
                return self.array(body)
            if tag == "callback" and type(body) is int and self.make_callback is not None:
                return self.make_callback(body)
        if set(v) == {"ref", "type"} and type(v["ref"]) is int and isinstance(v["type"], str):
            if self.objects is not None:
                if v["ref"] not in self.objects:
                    raise ProtocolError(f"no object {v['ref']} is kept here")
                return self.objects[v["ref"]]
            return Ref(v["ref"], v["type"][:200])
        raise ProtocolError(f"an unknown value {sorted(map(str, v))[:3]}")

    def array(self, body: list) -> np.ndarray:
        if not (len(body) == 3 and type(body[0]) is int and isinstance(body[1], str)
                and isinstance(body[2], list) and len(body[2]) <= MAX_NDIM
                and all(type(n) is int and n >= 0 for n in body[2])):
            raise ProtocolError("an array description that is not [index, dtype, shape]")
        index, dtype, shape = body
        if dtype not in DTYPES:
            raise ProtocolError(f"an array of dtype {dtype[:20]!r}, which is not a plain numeric type")
        if not 0 <= index < len(self.buffers):
            raise ProtocolError("an array without its buffer")
        dt = np.dtype(dtype)
        data = self.buffers[index]
        count = 1
        for n in shape:
            count *= n
        if count * dt.itemsize != len(data):
            raise ProtocolError("an array whose buffer does not match its shape")
        return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def decode(body: bytes, payload: tuple[str, ...] = (), *, make_callback: Callable | None = None,
           objects: dict | None = None) -> dict:
    """A frame's body back into a message, decoding its ``payload`` fields as values.

    Raises ProtocolError for anything malformed; never runs anything it was sent.
    """
    try:
        (size,) = _HEADER.unpack_from(body, 0)
        if size > len(body) - _HEADER.size:
            raise ProtocolError("a header longer than its message")
        header = json.loads(bytes(body[_HEADER.size:_HEADER.size + size]).decode("utf-8"))
    except ProtocolError:
        raise
    except (ValueError, UnicodeDecodeError, struct.error, RecursionError) as err:
        raise ProtocolError(f"a message that is not JSON ({type(err).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("buffers"), list):
        raise ProtocolError("a message that is not a JSON object with its buffer sizes")
    sizes = header.pop("buffers")
    if not all(type(n) is int and n >= 0 for n in sizes):
        raise ProtocolError("a buffer size that is not a whole number")
    view, offset = memoryview(body), _HEADER.size + size
    if offset + sum(sizes) != len(body):
        raise ProtocolError("buffers that do not add up to the message")
    buffers = []
    for n in sizes:
        buffers.append(view[offset:offset + n])
        offset += n
    decoder = _Decoder(buffers, make_callback, objects)
    try:
        for key in payload:
            if key in header:
                header[key] = decoder.value(header[key])
    except RecursionError:
        raise ProtocolError("a value too deeply nested") from None
    return header


# ----- reading and writing frames on a file descriptor --------------------------------------------

def read_exactly(read: Callable[[int], bytes], n: int) -> bytes:
    """``n`` bytes from ``read`` (os.read or a socket's recv), or EOFError when it ends first."""
    chunks, missing = [], n
    while missing:
        chunk = read(min(missing, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the channel")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(read: Callable[[int], bytes], limit: int = MAX_FRAME_BYTES) -> bytes:
    """The body of the next frame (blocking)."""
    return read_exactly(read, frame_length(read_exactly(read, _LENGTH.size), limit))
