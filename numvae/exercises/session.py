"""The grader's side of the trust boundary: start a child for a student's file and call it.

``start_child(path, exercise, limits)`` starts the child that runs the student's file
(``sandbox``), waits until it has confined itself and imported the file, and returns a
``Child``. The checks see it through a ``Submission``: ``need(submission, "kl_mvn")``
gives a ``RemoteFunction`` whose call sends the arguments (arrays, numbers, containers;
a ``protocol.Callback`` for a function argument) and returns the decoded reply. Nothing
the child sends is executed or unpickled; a reply that is not a well-formed frame, a
reply to another request, a flood of output, silence past the deadline or the child's
death raise ``ChildStopped``, after which the grader kills the child's process group and
starts a new child for the next check.

Children start in one of two ways. On Linux a fork server (``sandbox zygote``) loads
numpy, numvae and hypothesis once, and forks each child in a few milliseconds; it is
shared by the whole grader process and ends with it. Elsewhere (or with
``NUMVAE_GRADER_FORK=0``) each child is a fresh interpreter, ``python -m
numvae.exercises.sandbox child``. Either way the child's channel and output are unix
socket pairs where the platform has them (a socket cannot be reopened through /proc, a
pipe can), and every child has a fresh empty working directory of its own.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import protocol
from .compare import CheckFailure

STARTUP_TIMEOUT = 120.0  # a fresh interpreter's imports (numpy, numvae) on a loaded machine
MAX_OUTPUT_BYTES = 10_000_000  # a print inside a loop must not fill the grader's memory
EXIT_WAIT = 5.0  # seconds to learn a dead child's exit status
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding this numvae


@dataclass(frozen=True)
class Limits:
    """What one child may use: seconds per check, memory, and which confinement layers."""

    timeout: float
    memory_mb: int = 2048
    cpu_seconds: int = 600
    landlock: bool = True
    seccomp: bool = True


class ChildStopped(Exception):
    """The child is gone or must go: ``how`` is 'timeout', 'output', 'exit', 'protocol' or
    'startup'; ``detail`` the wait status, a description or the phase; ``output`` the tail
    of what it printed."""

    def __init__(self, how: str, detail=None, output: str = ""):
        super().__init__(how, detail)
        self.how, self.detail, self.output = how, detail, output


def environment() -> dict[str, str]:
    """The children's environment: this numvae first on the path, one BLAS thread, no .pyc."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMEXPR_NUM_THREADS="1")
    return env


def _fork_server_wanted() -> bool:
    return (sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")
            and os.environ.get("NUMVAE_GRADER_FORK", "1") != "0")


# ----- reading a child: its frames, and its output on a thread of its own -----------------------------

class _Reader:
    """The tail of the child's output, drained by a thread (a child that prints must never
    block), and the child's frames: read directly with select on a socket (no thread hand-off,
    which costs more than the rest of a round trip), or by a second thread from a pipe."""

    def __init__(self, output_recv: Callable[[int], bytes], channel: socket.socket | None = None,
                 channel_recv: Callable[[int], bytes] | None = None):
        self.events: queue.Queue = queue.Queue()
        self.output = bytearray()
        self.printed = 0
        self.flooded = False
        self.channel = channel
        self.pending = bytearray()  # bytes of the channel read but not yet part of a frame
        self._lock = threading.Lock()
        if channel is None:
            threading.Thread(target=self._frames, args=(channel_recv,), daemon=True).start()
        threading.Thread(target=self._output, args=(output_recv,), daemon=True).start()

    def next_event(self, deadline: float) -> tuple[str, object]:
        """('frame', body), ('output', None), ('protocol', why), ('eof', None) or ('timeout', None)."""
        if self.channel is None:
            try:
                return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return "timeout", None
        try:
            if len(self.pending) < 8 and not self._fill(8, deadline):
                return ("output", None) if self.flooded else ("timeout", None)
            length = protocol.frame_length(bytes(self.pending[:8]))
            if not self._fill(8 + length, deadline):
                return ("output", None) if self.flooded else ("timeout", None)
        except protocol.ProtocolError as err:
            return "protocol", str(err)
        except (EOFError, OSError):
            return "eof", None
        body = bytes(self.pending[8:8 + length])
        del self.pending[:8 + length]
        return "frame", body

    def _fill(self, size: int, deadline: float) -> bool:
        """Read until ``pending`` holds ``size`` bytes; False at the deadline or on a flood."""
        while len(self.pending) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.flooded:
                return False
            ready, _, _ = select.select([self.channel], [], [], min(remaining, 0.1))
            if ready:
                chunk = self.channel.recv(max(1 << 16, size - len(self.pending)))
                if not chunk:
                    raise EOFError("the child closed the channel")
                self.pending += chunk
        return True

    def _frames(self, recv) -> None:
        try:
            while True:
                self.events.put(("frame", protocol.read_frame(recv)))
        except protocol.ProtocolError as err:
            self.events.put(("protocol", str(err)))
        except (EOFError, OSError, ValueError):
            self.events.put(("eof", None))

    def _output(self, recv) -> None:
        try:
            while True:
                chunk = recv(1 << 16)
                if not chunk:
                    return
                with self._lock:
                    self.printed += len(chunk)
                    self.output += chunk
                    del self.output[:-4000]
                if self.printed > MAX_OUTPUT_BYTES:
                    self.flooded = True
                    self.events.put(("output", None))
                    return
        except (OSError, ValueError):
            return

    def tail(self, limit: int = 400) -> str:
        with self._lock:
            text = bytes(self.output).decode("utf-8", errors="replace").strip()
        text = "".join(c for c in text if c.isprintable() or c in "\n\t")
        return text if len(text) <= limit else "..." + text[-limit:]


# ----- the fork server -------------------------------------------------------------------------------

class _ForkServer:
    """The Linux fork server: one per grader process, started on first use."""

    def __init__(self):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([sys.executable, "-m", "numvae.exercises.sandbox", "zygote",
                                      str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=environment(), cwd=tempfile.gettempdir(),
                                     start_new_session=True)
        theirs.close()
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.spawned: dict[int, int] = {}
        self.exited: dict[int, int] = {}
        self.next_request = 0
        self.alive = True
        self.sock.settimeout(STARTUP_TIMEOUT)
        try:
            ready = json.loads(self.sock.recv(1 << 16) or b"{}")
        except (OSError, ValueError):
            ready = {}
        if not ready.get("ready"):
            self.close()
            raise ChildStopped("startup", "the fork server did not start")
        self.sock.settimeout(None)
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        try:
            while True:
                message = self.sock.recv(1 << 16)
                if not message:
                    break
                event = json.loads(message)
                with self.changed:
                    if "spawned" in event:
                        self.spawned[event["spawned"]] = event["pid"]
                    elif "exited" in event:
                        self.exited[event["exited"]] = event["status"]
                    self.changed.notify_all()
        except (OSError, ValueError):
            pass
        with self.changed:
            self.alive = False
            self.changed.notify_all()

    def spawn(self, fds: list[int]) -> int:
        with self.lock:
            self.next_request += 1
            number = self.next_request
            socket.send_fds(self.sock, [json.dumps({"spawn": number}).encode()], fds)
        with self.changed:
            self.changed.wait_for(lambda: number in self.spawned or not self.alive, timeout=STARTUP_TIMEOUT)
            if number not in self.spawned:
                raise ChildStopped("startup", "the fork server did not answer")
            return self.spawned.pop(number)

    def kill(self, pid: int) -> None:
        with self.lock:
            try:
                self.sock.send(json.dumps({"kill": pid}).encode())
            except OSError:
                pass

    def wait(self, pid: int, timeout: float) -> int | None:
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exited or not self.alive, timeout=timeout)
            return self.exited.pop(pid, None)

    def close(self) -> None:
        self.alive = False
        try:
            # shutdown first: a plain close leaves the listening thread's recv holding the socket
            # open, and the server would never see the end of the channel
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()  # the server kills its remaining children and ends
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_SERVER: list[_ForkServer] = []
_SERVER_LOCK = threading.Lock()


def _fork_server() -> _ForkServer:
    with _SERVER_LOCK:
        if not _SERVER or not _SERVER[0].alive:
            if _SERVER:
                _SERVER.pop().close()
            _SERVER.append(_ForkServer())
        return _SERVER[0]


@atexit.register
def shutdown() -> None:
    """End the fork server (and any child still running); the next grading starts a new one."""
    with _SERVER_LOCK:
        while _SERVER:
            _SERVER.pop().close()


# ----- one child -------------------------------------------------------------------------------------

class Child:
    """One running child: send requests, receive replies, answer its callbacks, end it."""

    def __init__(self, path: Path, limits: Limits):
        self.path, self.limits = path, limits
        self.deadline = time.monotonic() + STARTUP_TIMEOUT
        self.workdir = Path(tempfile.mkdtemp(prefix="numvae-child-"))
        self.confinement: dict = {}
        self.names: list[str] = []
        self.tests: list[str] = []
        self.import_error: str | None = None
        self.status: int | None = None
        self.callback_calls: dict[int, int] = {}
        self.alive_after_check = True  # False once a check ended with the child stopped
        self._seq = 0
        self._ended = False
        self._server: _ForkServer | None = None
        self._proc: subprocess.Popen | None = None
        if hasattr(socket, "AF_UNIX"):
            self._chan, chan = socket.socketpair()
            self._out, out = socket.socketpair()
            try:
                self._launch(chan.fileno(), out.fileno())
            finally:
                chan.close()
                out.close()
            self._send_bytes = self._chan.sendall
            self._reader = _Reader(self._out.recv, channel=self._chan)
        else:  # Windows: pipes, and a fresh interpreter per child
            pipe = subprocess.PIPE
            self._proc = subprocess.Popen([sys.executable, "-m", "numvae.exercises.sandbox", "child"],
                                          stdin=pipe, stdout=pipe, stderr=pipe, env=environment(),
                                          cwd=self.workdir,
                                          creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))
            self.pid = self._proc.pid
            self._send_bytes = self._write_pipe
            self._reader = _Reader(self._proc.stderr.read1, channel_recv=self._proc.stdout.read1)

    def _launch(self, chan_fd: int, out_fd: int) -> None:
        if _fork_server_wanted():
            self._server = _fork_server()
            self.pid = self._server.spawn([chan_fd, out_fd])
        else:
            self._proc = subprocess.Popen([sys.executable, "-m", "numvae.exercises.sandbox", "child"],
                                          stdin=chan_fd, stdout=chan_fd, stderr=out_fd, env=environment(),
                                          cwd=self.workdir, start_new_session=True)
            self.pid = self._proc.pid

    def _write_pipe(self, data: bytes) -> None:
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    # -- the conversation --

    def start(self, exercise_name: str, trapped: tuple[str, ...], hypothesis: bool,
              import_timeout: float) -> None:
        """Send the start message; wait for the confinement report, then for the import."""
        self.send({"op": "start", "student": str(self.path), "exercise": exercise_name, "trap": list(trapped),
                   "hypothesis": hypothesis, "workdir": str(self.workdir), "memory_mb": self.limits.memory_mb,
                   "cpu_seconds": self.limits.cpu_seconds, "landlock": self.limits.landlock,
                   "seccomp": self.limits.seccomp})
        try:
            hello = self.receive()
        except ChildStopped as stop:
            raise ChildStopped("startup", stop.detail, stop.output) from None
        if hello.get("op") != "hello" or not isinstance(hello.get("confinement"), dict):
            self.violation("a first message that is not the sandbox's hello")
        self.confinement = hello["confinement"]
        self.deadline = time.monotonic() + import_timeout  # from here on, the student's code runs
        imported = self.receive()
        if imported.get("op") != "imported":
            self.violation("a message where the import's outcome belongs")
        if imported.get("ok") is True:
            self.names = _names(imported.get("names"))
            self.tests = _names(imported.get("tests"))
        else:
            self.import_error = _clean(imported.get("message"), 600) or "the file could not be imported"

    def send(self, message: dict, payload: tuple[str, ...] = (), callbacks: dict | None = None) -> None:
        def register(callback: protocol.Callback) -> int:
            number = len(callbacks)
            callbacks[number] = callback.fn
            self.callback_calls[number] = 0
            return number

        frame = protocol.encode(message, payload, on_callback=register if callbacks is not None else None)
        try:
            self._send_bytes(frame)
        except OSError:  # the child is gone: report how it ended
            self.end()
            raise ChildStopped("exit", self.status, self._reader.tail()) from None

    def receive(self, payload: tuple[str, ...] = ()) -> dict:
        if time.monotonic() >= self.deadline:  # first: a child that calls back forever always has a frame
            raise ChildStopped("timeout", None, self._reader.tail())
        kind, body = self._reader.next_event(self.deadline)
        if kind == "timeout":
            raise ChildStopped("timeout", None, self._reader.tail())
        if kind == "frame":
            try:
                message = protocol.decode(body, payload)
            except protocol.ProtocolError as err:
                self.violation(str(err))
            if not isinstance(message.get("op"), str):
                self.violation("a message without a kind")
            return message
        if kind == "output":
            raise ChildStopped("output", None, self._reader.tail())
        if kind == "protocol":
            self.violation(body)
        self.end()  # eof: the child died; learn its status
        raise ChildStopped("exit", self.status, self._reader.tail())

    def violation(self, what: str):
        raise ChildStopped("protocol", what, self._reader.tail())

    def request(self, message: dict, payload: tuple[str, ...] = (), callbacks: dict | None = None) -> dict:
        """Send one request and return its reply, answering the child's callbacks meanwhile."""
        self._seq += 1
        message = {**message, "id": self._seq}
        callbacks = {} if callbacks is None else callbacks
        self.send(message, payload, callbacks)
        while True:
            reply = self.receive(("value", "args_after", "args", "kwargs"))
            if reply["op"] == "callback":
                self._answer(reply, callbacks)
                continue
            if reply["op"] != "reply" or reply.get("id") != self._seq:
                self.violation("a reply to a request it was not sent")
            return reply

    def _answer(self, question: dict, callbacks: dict) -> None:
        number, args, kwargs = question.get("callback"), question.get("args", ()), question.get("kwargs", {})
        if type(question.get("id")) is not int or not isinstance(args, (tuple, list)) \
                or not isinstance(kwargs, dict):
            self.violation("a malformed callback")
        answer: dict = {"op": "answer", "id": question["id"]}
        fn = callbacks.get(number) if type(number) is int else None
        if fn is None:
            answer["error"] = ["RuntimeError", "this function may only be called while the grader waits"]
        else:
            self.callback_calls[number] += 1
            try:
                answer["value"] = fn(*args, **{str(k): v for k, v in kwargs.items()})
            except Exception as err:  # the student's arguments were wrong: tell the student's code
                answer["error"] = [type(err).__name__, _clean(str(err), 300)]
        try:
            self.send(answer, ("value",))
        except TypeError:  # a grader function returned something that is not data: a grader bug
            self.send({"op": "answer", "id": question["id"], "error": ["RuntimeError", "the grader failed"]})

    # -- the end --

    def end(self) -> int | None:
        """Kill the child's process group (if still there), learn its status, remove its folder."""
        if self._ended:
            return self.status
        self._ended = True
        if self._server is not None:
            self._server.kill(self.pid)
            self.status = self._server.wait(self.pid, EXIT_WAIT)
        elif self._proc is not None:
            if self._proc.poll() is None:
                try:
                    if os.name == "posix":
                        os.killpg(self.pid, signal.SIGKILL)  # not reaped yet: the group is still ours
                    else:
                        self._proc.kill()
                except (ProcessLookupError, PermissionError):
                    pass
            code = self._proc.wait()
            self.status = _as_wait_status(code)
        for closing in ("_chan", "_out"):
            sock = getattr(self, closing, None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return self.status

    def output_tail(self) -> str:
        return self._reader.tail()


def _as_wait_status(returncode: int) -> int:
    """Popen's returncode (negative for a signal) as a POSIX wait status."""
    return (-returncode) & 0x7F if returncode < 0 else (returncode & 0xFF) << 8


def describe_status(status: int | None) -> str:
    """'status 7' or 'signal SIGSEGV' for a wait status."""
    if status is None:
        return "an unknown status"
    if status & 0x7F:  # the POSIX encoding: the signal in the low 7 bits, else the code above them
        try:
            return f"signal {signal.Signals(status & 0x7F).name}"
        except ValueError:
            return f"signal {status & 0x7F}"
    return f"status {(status >> 8) & 0xFF}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _identifier(value, default: str) -> str:
    """``value`` if it is a plain Python name, else ``default`` (the child chose it)."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else default


def _names(value) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and _NAME.fullmatch(v)][:1000]


def _clean(text, limit: int) -> str:
    """A string from the child made safe to show: printable characters, bounded length."""
    if not isinstance(text, str):
        return ""
    text = "".join(c if c.isprintable() or c == "\n" else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


# ----- what the checks see ---------------------------------------------------------------------------

class Submission:
    """A student's file as the checks see it: its functions, called in the child."""

    def __init__(self, file: str, child: Child, memory_mb: int):
        self.file = file
        self.child = child
        self.memory_mb = memory_mb
        self.cache: dict = {}  # state the checks of one exercise share (property-test outcomes)

    def has(self, name: str) -> bool:
        return name in self.child.names

    def function(self, name: str) -> RemoteFunction:
        return RemoteFunction(self, name)

    @property
    def tests(self) -> list[str]:
        return list(self.child.tests)

    def run_test(self, name: str, kl: Callable) -> tuple[dict, int]:
        """One of the student's tests with ``kl`` as its argument: (outcome, calls of kl)."""
        callbacks: dict = {}
        message = {"op": "test", "name": name, "kl": protocol.Callback(kl)}
        reply = self.child.request(message, ("kl",), callbacks)
        calls = self.child.callback_calls.get(0, 0)
        value = reply.get("value")
        if isinstance(reply.get("error"), dict) and reply["error"].get("kind") == "trap":
            return {"outcome": "trap", "type": "", "message": self.error_message(name, reply["error"]),
                    "notes": []}, calls
        if "error" in reply or not isinstance(value, dict) or not isinstance(value.get("outcome"), str):
            return {"outcome": "error", "type": "", "message": "the test's outcome did not arrive"}, calls
        outcome = {"outcome": value["outcome"], "type": _clean(value.get("type"), 100),
                   "message": _clean(value.get("message"), 300),
                   "notes": [_clean(n, 300) for n in value.get("notes", []) if isinstance(n, str)][:3]
                   if isinstance(value.get("notes"), list) else []}
        return outcome, calls

    def error_message(self, name: str, error) -> str:
        """The check's message for an error reply from the child."""
        if not isinstance(error, dict):
            return f"{name} failed in a way the grader cannot read"
        kind = error.get("kind")
        if kind == "trap":
            return f"calls numvae's own {_identifier(error.get('name'), 'functions')}: write it yourself"
        if kind == "missing":
            return f"{self.file} defines no function {name}"
        if kind == "exit":
            code = error.get("code")
            shown = repr(code) if isinstance(code, (int, type(None))) else repr(_clean(str(code), 60))
            return f"called sys.exit({shown}); a function must return its result, not end the program"
        where = _where(error)
        if kind == "memory":
            return f"exceeded the memory limit of {self.memory_mb} MiB (MemoryError){where}"
        if kind == "not_implemented":
            return f"not implemented yet: {_clean(error.get('message'), 300) or name}"
        if kind == "interrupt":
            return "raised KeyboardInterrupt"
        raised = _identifier(error.get("type"), "an exception")
        return f"{name} raised {raised}: {_clean(error.get('message'), 300)}{where}"


def _where(error: dict) -> str:
    line, file, function = error.get("line"), error.get("file"), error.get("function")
    if type(line) is not int or not isinstance(file, str) or not isinstance(function, str):
        return ""
    file = re.sub(r"[^\w.\-]", "?", file)[:100]
    return f" (line {line} of {file}, in {_clean(function, 100)})"


class RemoteFunction:
    """A student's function, called in the child: errors become CheckFailure."""

    def __init__(self, submission: Submission, name: str):
        self.submission, self.__name__ = submission, name

    def _reply(self, message: dict, payload: tuple[str, ...]) -> dict:
        reply = self.submission.child.request(message, payload, {})
        if "error" in reply:
            raise CheckFailure(self.submission.error_message(self.__name__, reply["error"]))
        return reply

    def __call__(self, *args, **kwargs):
        return self._reply({"op": "call", "fn": self.__name__, "args": args, "kwargs": kwargs},
                           ("args", "kwargs")).get("value")

    def keeping_arguments(self, *args, **kwargs) -> tuple:
        """(the return value, the arguments as the function left them), for in-place writes."""
        reply = self._reply({"op": "call", "fn": self.__name__, "args": args, "kwargs": kwargs,
                             "return_args": True}, ("args", "kwargs"))
        return reply.get("value"), reply.get("args_after")

    def map(self, calls: list[tuple], pick: tuple = ()) -> list:
        """The function on many argument tuples in one round trip: [f(*args)[pick...] ...]."""
        value = self._reply({"op": "map", "fn": self.__name__, "calls": [(tuple(c), {}) for c in calls],
                             "pick": list(pick)}, ("calls",)).get("value")
        if not isinstance(value, list) or len(value) != len(calls):
            raise CheckFailure(f"{self.__name__}: the grader did not receive one result per call")
        return value
