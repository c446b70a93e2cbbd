"""The grader's wire format: values round-trip, and nothing malformed gets past decode.

Whatever the child sends is decoded with these functions in the grader's process, so
every way of bending a frame must end in ProtocolError, never in code being run, a
crash, or an object that is not plain data.
"""

import json
import struct

import numpy as np
import pytest

from numvae.exercises import protocol
from numvae.exercises.protocol import Callback, ProtocolError, Ref, decode, encode


def roundtrip(value, **kwargs):
    frame = encode({"op": "reply", "value": value}, ("value",), **kwargs)
    (length,) = struct.unpack(">Q", frame[:8])
    assert length == len(frame) - 8
    return decode(frame[8:], ("value",))["value"]


def body(header: dict, *buffers: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack(">I", len(text)) + text + b"".join(buffers)


def raw(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text


def test_values_round_trip_with_their_types():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    value = {"loss": 1.5, "grads": {"W": a, "b": np.array([True, False])}, "n": 3, "none": None,
             "pair": (np.float64(2.0), [np.int64(7), "text"]), "nan": float("nan"), "big": 10 ** 30}
    out = roundtrip(value)
    assert out["loss"] == 1.5 and out["n"] == 3 and out["none"] is None and out["big"] == 10 ** 30
    assert isinstance(out["pair"], tuple) and out["pair"][0] == 2.0 and out["pair"][1] == [7, "text"]
    assert out["grads"]["W"].dtype == np.float32 and np.array_equal(out["grads"]["W"], a)
    assert out["grads"]["b"].dtype == np.bool_ and np.isnan(out["nan"])
    assert roundtrip(np.float32(1.5)).shape == () and roundtrip(np.complex128(1j)).dtype == np.complex128
    assert roundtrip(np.zeros((0, 3))).shape == (0, 3)
    non_contiguous = np.arange(20.0).reshape(4, 5)[:, ::2]
    assert np.array_equal(roundtrip(non_contiguous), non_contiguous)


def test_objects_that_are_not_data_become_references_or_are_refused():
    kept = {}

    def keep(obj):
        kept[len(kept)] = obj
        return {"ref": len(kept) - 1, "type": type(obj).__name__}

    class Cache:
        pass

    out = roundtrip((np.ones(2), Cache(), np.array([1, None], dtype=object), lambda: 0), on_object=keep)
    assert isinstance(out[1], Ref) and out[1].type == "Cache"
    assert isinstance(out[2], Ref) and out[2].type == "ndarray"  # object arrays never travel as data
    assert isinstance(out[3], Ref) and len(kept) == 3
    with pytest.raises(TypeError, match="cannot send a Cache"):
        encode({"value": Cache()}, ("value",))  # the grader itself never sends objects


def test_callbacks_travel_as_numbers_and_come_back_as_functions():
    registry = {}
    frame = encode({"op": "call", "args": (Callback(len), 2.0)}, ("args",),
                   on_callback=lambda cb: registry.setdefault(len(registry), cb.fn) and len(registry) - 1)
    made = []
    out = decode(frame[8:], ("args",), make_callback=lambda n: made.append(n) or (lambda: n))
    assert made == [0] and out["args"][1] == 2.0 and out["args"][0]() == 0


@pytest.mark.parametrize("frame, why", [
    (b"\x00" * 3, "not JSON"),
    (b"\xff\xff\xff\xff" + b"{}", "header longer"),
    (struct.pack(">I", 4) + b"nope", "not JSON"),
    (body([1, 2]), "JSON object"),
    (body({"value": 1}), "buffer sizes"),
    (body({"buffers": [-1], "value": 1}), "whole number"),
    (body({"buffers": [8], "value": 1}), "do not add up"),
    (body({"buffers": [], "value": [1, 2]}), "bare JSON list"),
    (body({"buffers": [], "value": {"pickle": "cos\nsystem\n"}}), "unknown value"),
    (body({"buffers": [], "value": {"array": [0, "<f8", [1]]}}), "without its buffer"),
    (body({"buffers": [8], "value": {"array": [0, "|O", [1]]}}, b"\0" * 8), "not a plain numeric type"),
    (body({"buffers": [8], "value": {"array": [0, "V8", [1]]}}, b"\0" * 8), "not a plain numeric type"),
    (body({"buffers": [8], "value": {"array": [0, "<f8", [2]]}}, b"\0" * 8), "does not match its shape"),
    (body({"buffers": [8], "value": {"array": [0, "<f8", [-1]]}}, b"\0" * 8), "index, dtype, shape"),
    (body({"buffers": [], "value": {"ref": 3}}), "unknown value"),
    (body({"buffers": [], "value": {"dict": [[[1], 2]]}}), "dict entry"),
    (body({"buffers": [], "value": "x" * (protocol.MAX_STRING + 1)}), "length limit"),
    (body({"buffers": [], "value": {"list": [{"list": [None] * 10}] * (protocol.MAX_NODES // 10 + 1)}}),
     "too large"),
    (raw(b'{"buffers": [], "value": ' + b"9" * 5000 + b"}"), "not JSON"),  # an int of 5000 digits
], ids=lambda v: v if isinstance(v, str) else None)
def test_malformed_frames_raise_protocol_error(frame, why):
    with pytest.raises(ProtocolError, match=why):
        decode(frame, ("value",))


def test_deep_nesting_and_oversized_frames_are_refused():
    deep = {"buffers": [], "value": None}
    for _ in range(protocol.MAX_DEPTH + 5):
        deep["value"] = {"list": [deep["value"]]}
    with pytest.raises(ProtocolError, match="too large or too deeply nested"):
        decode(body(deep), ("value",))
    with pytest.raises(ProtocolError, match="the limit is"):
        protocol.frame_length(struct.pack(">Q", protocol.MAX_FRAME_BYTES + 1))


def test_read_frame_reads_exactly_one_frame_from_a_stream_of_small_chunks():
    frames = encode({"op": "a", "value": np.arange(1000.0)}, ("value",)) + encode({"op": "b"})
    chunks = iter([frames[i:i + 7] for i in range(0, len(frames), 7)])
    pending = bytearray()

    def read(n):
        while not pending:
            pending.extend(next(chunks, b"") or b"")
            if not pending:
                return b""
        out = bytes(pending[:n])
        del pending[:n]
        return out

    first = decode(protocol.read_frame(read), ("value",))
    assert first["op"] == "a" and np.array_equal(first["value"], np.arange(1000.0))
    assert decode(protocol.read_frame(read))["op"] == "b"
    with pytest.raises(EOFError):
        protocol.read_frame(read)
