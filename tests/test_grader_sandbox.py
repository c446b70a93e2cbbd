"""The child that runs a student's file is confined: what it may and may not do.

A probe file (standing in for a student's exercise 5) tries each forbidden thing and
returns what happened as a string; the tests start children directly and call it. With
Landlock and seccomp (this kernel has both) nothing may be written, no process started,
no signal sent outside, numvae's own source not read, and numvae's answers are traps.
Without Landlock (NUMVAE_GRADER_LANDLOCK=0) the fallback is what the README says.
"""

import os
import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from numvae.exercises import confine, get_exercise, run_exercise
from numvae.exercises.compare import CheckFailure
from numvae.exercises.session import Child, ChildStopped, Limits, Submission, describe_status

SOLUTIONS = Path(__file__).parent / "exercise_solutions"
HAS_LANDLOCK = confine.landlock_abi() >= 1
needs_landlock = pytest.mark.skipif(not HAS_LANDLOCK, reason="this kernel has no Landlock")

PROBE = textwrap.dedent('''
    import os
    import resource
    import socket
    import subprocess
    import sys
    import threading

    import numpy as np

    import numvae

    HERE = os.path.dirname(os.path.abspath(__file__))


    def append(path, text):
        with open(path, "a") as f:  # closing flushes: the write happens here
            f.write(text)


    def attempt(what):
        """Do one forbidden thing; 'ok' or the exception it raised."""
        actions = {
            "create in cwd": lambda: open("made-here.txt", "w").close(),
            "create in the student folder": lambda: open(os.path.join(HERE, "made.txt"), "w").close(),
            "create in /tmp": lambda: open("/tmp/numvae-probe-was-here.txt", "w").close(),
            "append to own file": lambda: append(__file__, "# changed"),
            "truncate own file": lambda: os.truncate(__file__, 0),
            "rename own file": lambda: os.rename(__file__, __file__ + ".moved"),
            "remove own file": lambda: os.remove(__file__),
            "mkdir": lambda: os.mkdir(os.path.join(HERE, "made-dir")),
            "symlink": lambda: os.symlink(__file__, os.path.join(HERE, "link")),
            "write numvae": lambda: append(numvae.kl.__file__, "# changed"),
            "read numvae": lambda: open(numvae.kl.__file__).read(),
            "reload numvae": lambda: __import__("importlib").reload(numvae.kl),
            "read own file": lambda: open(__file__).read()[:5],
            "fork": lambda: os.fork(),
            "thread": lambda: threading.Thread(target=print).start(),
            "subprocess": lambda: subprocess.run(["true"]),
            "socket": lambda: socket.socket(),
            "signal the grader": lambda: os.kill(os.getppid(), 0),
            "allocate 4 GiB": lambda: np.ones(2 ** 29).sum(),
            "raise the memory limit": lambda: resource.setrlimit(resource.RLIMIT_AS, (-1, -1)),
            "read the memory limit": lambda: resource.getrlimit(resource.RLIMIT_AS),
            "chmod own file": lambda: os.chmod(__file__, 0),
        }
        try:
            result = actions[what]()
        except BaseException as err:
            return f"{type(err).__name__}: {err}"
        return f"ok {result!r}"[:100]


    def where():
        return os.getcwd(), sorted(os.listdir(".")), HERE


    def call_answer(name):
        try:
            getattr(numvae, name)(np.zeros((1, 1)), np.zeros((1, 1)))
        except BaseException as err:
            return f"{type(err).__name__}: {err}"
        return "computed"


    def survivors():
        from numvae.exercises import traps
        return traps.survivors()


    def spin(seconds):
        import time
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
        return "done"
    ''')


@pytest.fixture
def probe(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    path = folder / "ex05_kl_standard_normal.py"
    path.write_text(PROBE)
    children = []

    def start(**limits):
        child = Child(path.resolve(), Limits(timeout=60, **limits))
        children.append(child)
        exercise = get_exercise("kl_standard_normal")
        child.start(exercise.name, exercise.trapped(), False, 60)
        assert child.import_error is None, child.import_error
        child.deadline = time.monotonic() + 60
        return Submission(path.name, child, limits.get("memory_mb", 2048))

    yield start, path
    for child in children:
        child.end()


@needs_landlock
def test_the_child_reports_every_layer_applied(probe):
    start, _ = probe
    student = start()
    report = student.child.confinement
    assert report["landlock"] >= 1 and report["seccomp"] is True
    assert all(report["limits"].values())


@needs_landlock
@pytest.mark.parametrize("what", ["create in cwd", "create in the student folder", "create in /tmp",
                                  "append to own file", "truncate own file", "rename own file",
                                  "remove own file", "mkdir", "symlink", "write numvae"])
def test_no_file_can_be_created_changed_or_removed(probe, what):
    start, path = probe
    before = path.read_text()
    assert start().function("attempt")(what).startswith("PermissionError")
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert not Path("/tmp/numvae-probe-was-here.txt").exists()


@needs_landlock
def test_files_stay_readable_except_numvae_own_source(probe):
    start, _ = probe
    student = start()
    attempt = student.function("attempt")
    assert attempt("read own file") == "ok '\\nimpo'"
    assert attempt("read numvae").startswith("PermissionError")
    assert attempt("reload numvae").startswith("PermissionError")  # it would bring the answers back


def test_the_working_directory_is_fresh_empty_and_removed_afterwards(probe):
    start, path = probe
    student = start()
    cwd, listing, here = student.function("where")()
    assert listing == [] and Path(cwd) != path.parent and Path(here) == path.parent.resolve()
    student.child.end()
    assert not Path(cwd).exists()


@pytest.mark.parametrize("what, error", [("fork", "PermissionError"), ("thread", "RuntimeError"),
                                         ("subprocess", "PermissionError"), ("socket", "PermissionError"),
                                         ("signal the grader", "PermissionError"),
                                         ("raise the memory limit", "ValueError"),
                                         ("chmod own file", "PermissionError"),
                                         ("read the memory limit", "ok")])
def test_no_process_thread_socket_or_signal(probe, what, error):
    if os.uname().machine != "x86_64":
        pytest.skip("seccomp filter is x86-64 only")
    start, _ = probe
    assert start().function("attempt")(what).startswith(error)


def test_memory_is_capped_and_reported_as_memory(probe):
    start, _ = probe
    result = start(memory_mb=1024).function("attempt")("allocate 4 GiB")
    assert result.startswith("MemoryError: Unable to allocate 4.00 GiB")


def test_cpu_time_is_capped(probe):
    start, _ = probe
    student = start(cpu_seconds=1)
    with pytest.raises(ChildStopped) as stopped:
        student.function("spin")(30)
    assert stopped.value.how == "exit" and describe_status(stopped.value.detail) in ("signal SIGXCPU",
                                                                                      "signal SIGKILL")


def test_numvae_answers_are_traps_and_none_survives(probe):
    start, _ = probe
    student = start()
    # call_answer catches the trap and returns a string: the call is reported all the same
    with pytest.raises(CheckFailure, match="^calls numvae's own kl_standard_normal: write it yourself$"):
        student.function("call_answer")("kl_standard_normal")
    with pytest.raises(CheckFailure, match="^calls numvae's own kl_normal: write it yourself$"):
        student.function("call_answer")("kl_normal")
    assert student.function("survivors")() == []


def test_what_an_exercise_may_use_stays_usable(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ex08_elbo.py").write_text(textwrap.dedent('''
        import numpy as np
        import numvae as nv

        def negative_elbo_and_grads(params, x, eps):
            mu = np.zeros((2, 3))
            out = [nv.kl_standard_normal(mu, mu), nv.linear_forward(mu, np.eye(3), np.zeros(3))[0],
                   nv.reparameterize(mu, mu, mu), nv.bernoulli_log_prob(np.ones((1, 2)), np.zeros((1, 2)))]
            if params == "the answer":
                nv.VAE(None)
            return out
        '''))
    exercise = get_exercise("elbo")
    child = Child((folder / "ex08_elbo.py").resolve(), Limits(timeout=60))
    try:
        child.start(exercise.name, exercise.trapped(), False, 60)
        child.deadline = time.monotonic() + 60
        fn = Submission("ex08_elbo.py", child, 2048).function("negative_elbo_and_grads")
        out = fn(None, None, None)
        with pytest.raises(CheckFailure, match="^calls numvae's own VAE: write it yourself$"):
            fn("the answer", None, None)
    finally:
        child.end()
    assert np.array_equal(out[0], np.zeros(2)) and out[1].shape == (2, 3) and out[3].shape == (1,)


def test_a_child_is_started_in_a_fresh_interpreter_without_the_fork_server(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMVAE_GRADER_FORK", "0")
    shutil.copy(SOLUTIONS / "ex06_kl_mvn.py", tmp_path / "ex06_kl_mvn.py")
    (tmp_path / "ex05_kl_standard_normal.py").write_text(PROBE)
    assert all(r.passed for r in run_exercise(tmp_path, get_exercise("kl_mvn")))
    child = Child((tmp_path / "ex05_kl_standard_normal.py").resolve(), Limits(timeout=60))
    try:
        exercise = get_exercise("kl_standard_normal")
        child.start(exercise.name, exercise.trapped(), False, 120)
        child.deadline = time.monotonic() + 60
        student = Submission("probe", child, 2048)
        assert child.confinement["landlock"] == confine.landlock_abi()
        with pytest.raises(CheckFailure, match="calls numvae's own kl_standard_normal"):
            student.function("call_answer")("kl_standard_normal")
        if HAS_LANDLOCK:
            assert student.function("attempt")("create in cwd").startswith("PermissionError")
    finally:
        child.end()


def test_without_landlock_file_size_zero_still_stops_writing_content(probe, monkeypatch):
    """The fallback the README describes: creation and truncation go through, content does not."""
    start, path = probe
    student = start(landlock=False)
    assert student.child.confinement["landlock"] == 0
    attempt = student.function("attempt")
    assert attempt("append to own file").startswith("OSError: [Errno 27] File too large")
    assert attempt("create in the student folder") == "ok None"  # empty, but created
    assert (path.parent / "made.txt").stat().st_size == 0


def test_the_process_group_is_killed_at_the_end(tmp_path):
    """Without seccomp (any platform but x86-64 Linux) a child may fork; its whole group dies."""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ex06_kl_mvn.py").write_text(textwrap.dedent('''
        import os, time

        def kl_mvn(mu0, cov0, mu1, cov1):
            pid = os.fork()
            if pid == 0:
                time.sleep(600)
                os._exit(0)
            return pid
        '''))
    child = Child((folder / "ex06_kl_mvn.py").resolve(), Limits(timeout=60, seccomp=False))
    child.start("kl_mvn", get_exercise("kl_mvn").trapped(), False, 60)
    child.deadline = time.monotonic() + 60
    grandchild = Submission("x", child, 2048).function("kl_mvn")(0, 0, 0, 0)
    assert isinstance(grandchild, int) and grandchild > 0
    child.end()
    for _ in range(100):
        try:
            state = Path(f"/proc/{grandchild}/stat").read_text().split(")")[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            state = "gone"
        if state in ("gone", "Z", "X"):
            break
        time.sleep(0.05)
    assert state in ("gone", "Z", "X")
