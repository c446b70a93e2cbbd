"""Parameters as a dict of named arrays that are views into one flat buffer.

A model's parameters are {"enc.0.W": array, "enc.0.b": array, ...}; its gradients come
back under the same names. Because every array is a view into one contiguous vector
(``ParamDict.flat``), an optimizer updates all of them with a single vectorised
expression, and a checkpoint is one array plus a list of names and shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class ParamDict(dict):
    """A ``dict[str, np.ndarray]`` whose arrays are views into ``self.flat``.

    Build with ``ParamDict.zeros(shapes, dtype)`` or ``ParamDict.from_arrays(arrays)``.
    Writing into ``d[name][...]`` writes into ``d.flat``; rebinding ``d[name] = other``
    would break the link, so it is refused.
    """

    flat: np.ndarray

    @classmethod
    def zeros(cls, shapes: Mapping[str, tuple], dtype=np.float32) -> ParamDict:
        sizes = [int(np.prod(s)) for s in shapes.values()]
        flat = np.zeros(sum(sizes), dtype=dtype)
        out = cls()
        offset = 0
        for (name, shape), size in zip(shapes.items(), sizes, strict=True):
            dict.__setitem__(out, name, flat[offset:offset + size].reshape(shape))
            offset += size
        out.flat = flat
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], dtype=None) -> ParamDict:
        """Copy ``arrays`` into a fresh flat buffer (dtype of the first array by default)."""
        if not arrays:
            raise ValueError("arrays must hold at least one parameter")
        dtype = dtype or next(iter(arrays.values())).dtype
        out = cls.zeros({k: np.shape(v) for k, v in arrays.items()}, dtype=dtype)
        for name, value in arrays.items():
            out[name][...] = value
        return out

    def __setitem__(self, key, value):
        raise TypeError(
            f"assign into the existing array instead (params[{key!r}][...] = value) so that "
            "it stays a view of the flat buffer"
        )

    def shapes(self) -> dict[str, tuple]:
        return {name: value.shape for name, value in self.items()}

    def zeros_like(self) -> ParamDict:
        """A new ParamDict of zeros with the same names, shapes and dtype (for gradients)."""
        return ParamDict.zeros(self.shapes(), dtype=self.flat.dtype)

    def copy(self) -> ParamDict:
        return ParamDict.from_arrays(self)

    def astype(self, dtype) -> ParamDict:
        return ParamDict.from_arrays(self, dtype=dtype)


def parameter_mismatches(found: Mapping[str, tuple], expected: Mapping[str, tuple]) -> list[str]:
    """Human-readable differences between two {name: shape} maps (empty when equal)."""
    problems = [f"missing {n} (expected shape {tuple(s)})" for n, s in expected.items() if n not in found]
    problems += [f"unexpected {n} (shape {tuple(s)})" for n, s in found.items() if n not in expected]
    problems += [f"{n} has shape {tuple(found[n])}, expected {tuple(s)}"
                 for n, s in expected.items() if n in found and tuple(found[n]) != tuple(s)]
    return problems


def check_params(params: Mapping[str, np.ndarray], expected: Mapping[str, tuple]) -> None:
    """Raise ValueError naming every missing, unexpected or misshapen parameter of ``params``."""
    problems = parameter_mismatches({n: np.shape(v) for n, v in params.items()}, expected)
    if problems:
        raise ValueError("params do not match the model: " + "; ".join(problems))
