"""Traps: in the grading child, numvae's answers to the exercises are replaced by functions
that refuse to compute.

``install(names)`` resolves each name (``"kl_standard_normal"`` is ``numvae.kl_standard_normal``;
``"kl._kl_normal_std"`` is ``numvae.kl._kl_normal_std``) to the object it names, then walks
every loaded numvae module and replaces each binding of such an object, wherever it is:
module globals (so ``numvae.kl_standard_normal``, ``numvae.kl.kl_standard_normal`` and any alias),
class attributes (plain, staticmethod, classmethod), the default arguments and closure
cells of numvae's functions, and lists, tuples, sets and dicts reachable from those (a
registry of functions, say). Afterwards nothing in numvae refers to the original, so it
is garbage-collected; ``survivors()`` lists any that are still alive (the tests check that
there are none). A numvae function that calls an answer internally now calls the trap.

A trap raises ``AnswerCalled``, a BaseException (``except Exception`` does not swallow
it), and records its name in ``CALLED``, so that the child reports "calls numvae's own
kl_standard_normal: write it yourself" even if the student's code catches it. A trap never
computes anything: catching it gains nothing.

What traps cannot do: stop a student from copying numvae's source into their file, or
from re-executing it (``importlib.reload``, ``exec`` of the file). That is copying the
answer, as pasting it is; the README says so.

This module runs in the child only; the grader never imports the student's code.
"""

from __future__ import annotations

import gc
import sys
import types
import weakref
from collections.abc import Iterable

CALLED: list[str] = []  # names of the traps called since the child last cleared the list
_ORIGINALS: list[tuple[str, weakref.ref]] = []
_MAX_DEPTH = 6


class AnswerCalled(BaseException):
    """The student's code called one of numvae's own answers, which are off limits."""


def resolve(name: str) -> object:
    """The object a catalog name refers to: attributes from the numvae package down."""
    import numvae

    obj = numvae
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _make_trap(name: str):
    short = name.rsplit(".", 1)[-1]

    def trap(*args, **kwargs):
        CALLED.append(short)
        raise AnswerCalled(f"calls numvae's own {short}: write it yourself")

    trap.__name__ = trap.__qualname__ = short
    trap.__doc__ = f"numvae's {short} is an exercise's answer and off limits while grading."
    return trap


class _Walker:
    def __init__(self, traps: dict[int, object]):
        self.traps = traps  # id(original) -> its trap
        self.seen: set[int] = set()

    def fix(self, value, depth: int):
        """``value`` itself, a trap in its place, or a rebuilt immutable container."""
        trap = self.traps.get(id(value))
        if trap is not None:
            return trap
        if depth > _MAX_DEPTH or id(value) in self.seen:
            return value
        if isinstance(value, (list, dict, set, tuple, frozenset)):
            self.seen.add(id(value))
            return self.container(value, depth)
        if isinstance(value, (staticmethod, classmethod)):
            inner = self.fix(value.__func__, depth + 1)
            return type(value)(inner) if inner is not value.__func__ else value
        if _is_numvae(value):
            self.seen.add(id(value))
            if isinstance(value, types.FunctionType):
                self.function(value, depth)
            elif isinstance(value, type):
                self.namespace(value, depth)
        return value

    def container(self, value, depth: int):
        if isinstance(value, list):
            for i, item in enumerate(value):
                new = self.fix(item, depth + 1)
                if new is not item:
                    value[i] = new
            return value
        if isinstance(value, dict):
            self.mapping(value, depth)
            return value
        if isinstance(value, set):
            changed = [(item, self.fix(item, depth + 1)) for item in list(value)]
            for old, new in changed:
                if new is not old:
                    value.discard(old)
                    value.add(new)
            return value
        items = [self.fix(item, depth + 1) for item in value]  # tuple or frozenset
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items) if type(value) in (tuple, frozenset) else value

    def mapping(self, d: dict, depth: int) -> None:
        for key, item in list(d.items()):
            new = self.fix(item, depth + 1)
            if new is not item:
                d[key] = new

    def namespace(self, cls: type, depth: int) -> None:
        for key, item in list(vars(cls).items()):
            new = self.fix(item, depth + 1)
            if new is not item:
                try:
                    setattr(cls, key, new)
                except (AttributeError, TypeError):
                    pass

    def function(self, fn: types.FunctionType, depth: int) -> None:
        if fn.__defaults__:
            fn.__defaults__ = self.fix(fn.__defaults__, depth + 1)
        if fn.__kwdefaults__:
            self.mapping(fn.__kwdefaults__, depth)
        for cell in fn.__closure__ or ():
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            new = self.fix(content, depth + 1)
            if new is not content:
                cell.cell_contents = new
        self.mapping(fn.__dict__, depth)  # e.g. __wrapped__ of a decorated function


def _is_numvae(value) -> bool:
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and (module == "numvae" or module.startswith("numvae."))


def numvae_modules() -> list[types.ModuleType]:
    return [m for name, m in list(sys.modules.items())
            if (name == "numvae" or name.startswith("numvae.")) and isinstance(m, types.ModuleType)]


def install(names: Iterable[str]) -> None:
    """Replace every binding, in every loaded numvae module, of the objects ``names`` name."""
    import numvae  # noqa: F401  (the whole package is loaded before the walk)

    originals = {}
    for name in names:
        target = resolve(name)
        originals.setdefault(id(target), (name, target))
    target = None
    traps = {key: _make_trap(name) for key, (name, _) in originals.items()}
    walker = _Walker(traps)
    for module in numvae_modules():
        walker.mapping(vars(module), 0)
    for name, obj in originals.values():
        try:
            _ORIGINALS.append((name, weakref.ref(obj)))
        except TypeError:  # an object that takes no weak reference
            pass
    originals.clear()
    del walker
    gc.collect()


def survivors() -> list[str]:
    """The answers that are still alive after ``install``: something outside its walk holds them."""
    gc.collect()
    return [name for name, ref in _ORIGINALS if ref() is not None]
