"""The child that runs a student's file, and the fork server that starts children quickly.

    python -m numvae.exercises.sandbox child       one interpreter per child (any platform)
    python -m numvae.exercises.sandbox zygote FD   Linux: loads numpy and numvae once, then
                                                   forks a child per request on socket FD

A child has one job: call the student's functions on the inputs the grader sends and send
back what they returned. It never sees a reference value, a tolerance or a verdict. Its
file descriptors on start: 0 and 1 the channel to the grader (frames of ``protocol``), 2
where the student's prints go (the grader keeps the tail and stops a flood). In order:

1. read the grader's ``start`` message (student file, exercise, traps, limits, workdir);
2. load numvae (and hypothesis for the property-test exercise) and install the traps on
   numvae's answers (``traps``);
3. move into the fresh empty working directory and confine itself (``confine``): memory,
   CPU time, no file written, numvae's own source unreadable (re-executing it would undo
   the traps), no process started, no signal sent outside;
4. say ``hello`` with what was applied: up to here no student code has run;
5. import the student's file (its folder is appended to sys.path) and report the names
   it defines, or why it could not be imported;
6. serve requests until the channel closes: ``call`` (one call), ``map`` (the same
   function on many inputs, for finite differences), ``test`` (one of the student's
   property tests, its ``kl`` argument a callback to the grader), ``reset`` (forget the
   objects kept for the grader).

A value the student returns that is not data (a cache object, say) stays here and travels
as a ``Ref`` that the grader can pass back. Exceptions become error replies that name
the type, the message's first line and the student's line. A child can of course send
anything at all; the grader treats what arrives as the student's return values and judges
them, so lying only ever costs the liar.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import numpy as np

from . import confine, protocol, traps

# Deterministic, quiet, no example database, and no shrinking: a grade needs to know that a
# test fails, not its smallest counterexample (shrinking took 5 to 7 s per caught KL).
HYPOTHESIS_PROFILE = {"max_examples": 50, "derandomize": True, "database": None, "deadline": None,
                      "print_blob": False}
HYPOTHESIS_PHASES = ("explicit", "reuse", "generate")
_MESSAGE_CHARS = 300


# ----- describing what the student's code did ----------------------------------------------------

def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:_MESSAGE_CHARS] if text else ""


def _where(err: BaseException, folder: Path) -> dict:
    """The deepest frame of the traceback inside the student's folder: line, file, function."""
    frames = []
    for frame in traceback.extract_tb(err.__traceback__):
        try:
            if Path(frame.filename).resolve().parent == folder:
                frames.append(frame)
        except (OSError, ValueError):
            continue
    if not frames:
        return {}
    frame = frames[-1]
    return {"line": frame.lineno, "file": Path(frame.filename).name, "function": frame.name}


def describe_error(err: BaseException, folder: Path) -> dict:
    """An error reply: what kind of failure, the exception's type and message, and where."""
    if traps.CALLED or isinstance(err, traps.AnswerCalled):
        return {"kind": "trap", "name": (traps.CALLED or ["?"])[0]}
    if isinstance(err, MemoryError):
        kind = "memory"
    elif isinstance(err, NotImplementedError):
        kind = "not_implemented"
    elif isinstance(err, SystemExit):
        code = err.code if isinstance(err.code, (int, str, type(None))) else str(err.code)
        return {"kind": "exit", "code": code}
    elif isinstance(err, KeyboardInterrupt):
        kind = "interrupt"
    else:
        kind = "raised"
    return {"kind": kind, "type": type(err).__name__, "message": _first_line(err), **_where(err, folder)}


def _describe_import_error(err: BaseException, path: Path) -> str:
    if isinstance(err, traps.AnswerCalled):
        return f"importing {path.name}: {err}"
    if isinstance(err, SystemExit):
        return (f"importing {path.name} called sys.exit({err.code!r}); a function must return its "
                "result, not end the program")
    if isinstance(err, SyntaxError):
        return f"{path.name} has a syntax error on line {err.lineno}: {err.msg}"
    where = _where(err, path.parent)
    line = f" (line {where['line']})" if where.get("file") == path.name else ""
    message = _first_line(err)
    return f"importing {path.name} raised {type(err).__name__}{line}: {message}"


# ----- the channel ---------------------------------------------------------------------------------

class Channel:
    """The child's end: frames in from one descriptor, out to another."""

    def __init__(self, read_fd: int, write_fd: int, folder: Path):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.objects: dict[int, object] = {}  # Ref id -> object kept for the grader
        self.folder = folder
        self.next_id = 0

    def send(self, message: dict, payload: tuple[str, ...] = ()) -> None:
        frame = protocol.encode(message, payload, on_object=self.keep)
        if len(frame) > protocol.MAX_FRAME_BYTES:
            frame = protocol.encode({"op": "reply", "id": message.get("id"), "error": {
                "kind": "raised", "type": "ValueError",
                "message": f"returned more than {protocol.MAX_FRAME_BYTES >> 20} MB of data"}})
        view = memoryview(frame)
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self, payload: tuple[str, ...] = ()) -> dict:
        body = protocol.read_frame(lambda n: os.read(self.read_fd, n))
        return protocol.decode(body, payload, make_callback=self.callback, objects=self.objects)

    def keep(self, obj) -> dict:
        key = len(self.objects)
        self.objects[key] = obj
        return {"ref": key, "type": type(obj).__name__[:100]}

    def callback(self, number: int):
        """A function that asks the grader: each call is a round trip on this channel."""
        def grader_function(*args, **kwargs):
            self.next_id += 1
            asked = self.next_id
            self.send({"op": "callback", "id": asked, "callback": number, "args": args, "kwargs": kwargs},
                      ("args", "kwargs"))
            answer = self.receive(("value",))
            if answer.get("op") != "answer" or answer.get("id") != asked:
                raise RuntimeError("the grader's answer does not match the question")
            if "error" in answer:
                kind, message = answer["error"]
                raise _ERRORS.get(kind, RuntimeError)(message)
            return answer["value"]

        grader_function.__name__ = grader_function.__qualname__ = "kl"
        return grader_function


_ERRORS = {"ValueError": ValueError, "TypeError": TypeError, "ZeroDivisionError": ZeroDivisionError,
           "FloatingPointError": FloatingPointError, "OverflowError": OverflowError,
           "IndexError": IndexError, "KeyError": KeyError}


# ----- serving -------------------------------------------------------------------------------------

def _load_student(path: Path):
    """Import the student's file; its folder goes at the *end* of sys.path, so that their other
    files can be imported without shadowing numpy or numvae."""
    sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _public_functions(module) -> tuple[list[str], list[str]]:
    names, tests = [], []
    for name, value in list(vars(module).items()):
        if name.startswith("_") or not callable(value) or isinstance(value, type):
            continue
        names.append(name)
        if name.startswith("test"):
            tests.append(name)
    return names, tests


def _pick(value, path):
    for key in path:
        value = value[key]
    return value


def _run_test(test, kl) -> dict:
    """One student property test, its kl argument a callback: passed, failed (an assertion)
    or error, with the exception's type and first line."""
    try:
        with np.errstate(all="ignore"):
            test(kl=kl)
    except traps.AnswerCalled as err:
        return {"outcome": "trap", "message": str(err)}
    except NotImplementedError as err:
        return {"outcome": "not_implemented", "message": _first_line(err)}
    except BaseException as err:  # the test's failure is the datum, whatever it is
        leaves = _leaves(err)
        outcome = "failed" if leaves and all(isinstance(e, AssertionError) for e in leaves) else "error"
        notes = [str(n)[:_MESSAGE_CHARS] for n in getattr(err, "__notes__", [])[:3]]
        return {"outcome": outcome, "type": type(err).__name__, "message": _first_line(err), "notes": notes}
    return {"outcome": "passed"}


def _leaves(err: BaseException) -> list[BaseException]:
    group = getattr(err, "exceptions", None)
    if isinstance(group, tuple):
        return [leaf for inner in group for leaf in _leaves(inner)]
    return [err]


def serve(channel: Channel, student: ModuleType) -> None:
    """Answer the grader's requests until the channel closes."""
    payload = ("args", "kwargs", "calls", "kl")
    while True:
        try:
            request = channel.receive(payload)
        except EOFError:
            return
        op, number = request.get("op"), request.get("id")
        traps.CALLED.clear()
        reply: dict = {"op": "reply", "id": number}
        try:
            if op == "reset":
                channel.objects.clear()
                reply["value"] = None
            elif op == "test":
                reply["value"] = _run_test(getattr(student, request["name"]), request["kl"])
            elif op in ("call", "map"):
                fn = getattr(student, request["fn"], None)
                if fn is None or not callable(fn):
                    reply["error"] = {"kind": "missing", "name": request["fn"]}
                elif op == "call":
                    args, kwargs = tuple(request.get("args", ())), dict(request.get("kwargs", {}))
                    with np.errstate(all="ignore"):
                        reply["value"] = fn(*args, **kwargs)
                    if request.get("return_args"):
                        reply["args_after"] = args
                else:
                    pick = request.get("pick", [])
                    values = []
                    with np.errstate(all="ignore"):
                        for args, kwargs in request["calls"]:
                            values.append(_pick(fn(*args, **kwargs), pick))
                    reply["value"] = values
            else:
                reply["error"] = {"kind": "raised", "type": "ValueError",
                                  "message": f"unknown request {op!r}"}
            if traps.CALLED and op != "test":  # the student's code caught a trap and went on
                reply = {"op": "reply", "id": number,
                         "error": describe_error(traps.AnswerCalled(), channel.folder)}
        except BaseException as err:  # whatever the student's code raised, reported as data
            reply = {"op": "reply", "id": number, "error": describe_error(err, channel.folder)}
        try:
            channel.send(reply, ("value", "args_after"))
        except MemoryError:
            channel.send({"op": "reply", "id": number, "error": {"kind": "memory", "type": "MemoryError",
                                                                  "message": "while sending the result"}})


def prepare(hypothesis: bool) -> None:
    """Load what the children need before any of them runs (the fork server calls it once)."""
    import numvae  # noqa: F401  (everything the traps walk, loaded from the grader's files)

    if hypothesis:
        try:
            from hypothesis import Phase, settings
        except ImportError:
            return  # the student's own import of hypothesis will say so
        settings.register_profile("numvae-grader", **HYPOTHESIS_PROFILE,
                                  phases=[getattr(Phase, name) for name in HYPOTHESIS_PHASES])
        settings.load_profile("numvae-grader")


def _warm_up() -> None:
    """Touch the libraries once, so that no child needs anything lazily loaded while confined."""
    a = np.eye(3) + 1.0
    np.linalg.slogdet(a), np.linalg.solve(a, a), np.linalg.cholesky(a)
    np.random.default_rng(0).standard_normal(3)
    try:
        import scipy.linalg
        scipy.linalg.cho_factor(a)
    except ImportError:
        pass


def child_main() -> int:
    """The child, with the channel on descriptors 0 and 1 and the student's output on 2."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # the student's prints join the output stream, never the channel
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True, write_through=True)
        except (AttributeError, ValueError):
            pass
    channel = Channel(read_fd, write_fd, Path("."))
    start = channel.receive()
    if start.get("op") != "start":
        return 2
    path = Path(start["student"])
    channel.folder = path.parent.resolve()
    prepare(bool(start.get("hypothesis")))
    _warm_up()
    traps.install(start.get("trap", []))
    os.chdir(start["workdir"])
    import numvae

    report = confine.confine(int(start["memory_mb"]), int(start["cpu_seconds"]),
                             landlock=bool(start.get("landlock", True)),
                             seccomp=bool(start.get("seccomp", True)),
                             hidden=Path(numvae.__file__).resolve().parent)
    channel.send({"op": "hello", "confinement": report})
    try:
        student = _load_student(path)
    except BaseException as err:  # the student's file, whatever it raised
        channel.send({"op": "imported", "ok": False, "message": _describe_import_error(err, path)})
        return 0
    names, tests = _public_functions(student)
    channel.send({"op": "imported", "ok": True, "names": names, "tests": tests})
    serve(channel, student)
    return 0


# ----- the fork server -----------------------------------------------------------------------------

def _send_json(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode("utf-8"))


def _forked_child(sock: socket.socket, pidfds: Mapping[int, int], fds: list[int], zygote: int) -> int:
    os.setsid()  # its own process group, which the grader kills as a whole
    confine.die_with_parent()
    if os.getppid() != zygote:  # the fork server died before the line above
        return 1
    sock.close()
    for pidfd in pidfds.values():
        os.close(pidfd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(fds[0], 0)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in fds:
        os.close(fd)
    return child_main()


def zygote_main(fd: int) -> int:
    """Serve spawn requests on the socket ``fd`` (SOCK_SEQPACKET, descriptors passed along):
    {"spawn": n} with the child's two descriptors -> {"spawned": n, "pid": pid}; {"kill": pid};
    and {"exited": pid, "status": wait status} when a child ends. Ends when the socket closes,
    killing the children still running."""
    sock = socket.socket(fileno=fd)
    confine.protect_from_children()
    prepare(hypothesis=True)
    _warm_up()
    pidfds: dict[int, int] = {}
    zygote = os.getpid()
    _send_json(sock, {"ready": True})
    while True:
        readable, _, _ = select.select([sock, *pidfds.values()], [], [])
        for pid, pidfd in list(pidfds.items()):
            if pidfd in readable:
                _end_child(pid, pidfds)
                _send_json(sock, {"exited": pid, "status": _reap(pid)})
        if sock not in readable:
            continue
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        if not message:
            break
        request = json.loads(message)
        if "spawn" in request:
            pid = os.fork()
            if pid == 0:
                code = 70
                try:
                    code = _forked_child(sock, pidfds, fds, zygote)
                finally:
                    os._exit(code)
            for descriptor in fds:
                os.close(descriptor)
            pidfds[pid] = os.pidfd_open(pid)
            _send_json(sock, {"spawned": request["spawn"], "pid": pid})
        elif "kill" in request and request["kill"] in pidfds:
            _kill_group(request["kill"])
    for pid in list(pidfds):
        _end_child(pid, pidfds)
        _reap(pid)
    return 0


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _end_child(pid: int, pidfds: dict[int, int]) -> None:
    _kill_group(pid)  # whatever is left of its group, while the pid cannot be reused yet
    os.close(pidfds.pop(pid))


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return child_main()
    if argv[:1] == ["zygote"] and len(argv) == 2:
        return zygote_main(int(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
