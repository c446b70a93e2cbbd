"""Confining the grading child: resource limits, Landlock and seccomp, through ctypes.

The child process that runs a student's file calls ``confine(...)`` once, after numvae
and its traps are in place and before the student's file is imported. What it sets up:

- resource limits: address space (``RLIMIT_AS``, the memory limit), CPU seconds
  (``RLIMIT_CPU``), no file may grow (``RLIMIT_FSIZE = 0``; SIGXFSZ is ignored so that
  a write fails with an OSError instead of killing the process), no core dumps, and no
  new processes for a non-root user (``RLIMIT_NPROC = 0``);
- Landlock (Linux >= 5.13): no file or directory may be created, opened for writing,
  truncated, renamed, linked or removed, nothing may be executed; from ABI 4 no TCP
  connection, from ABI 6 no signal to a process outside the sandbox and no abstract
  unix socket outside it. Reading stays allowed everywhere except beneath numvae's own
  package folder (``hidden``): reloading or exec'ing numvae's source would give the
  student untrapped answers. Landlock also keeps the child from ptracing (or reading
  the memory of) the grader;
- seccomp (x86-64 Linux): the system calls that start processes or threads (fork,
  clone, execve), signal or inspect other processes (kill, ptrace, process_vm_readv,
  pidfd_*), open sockets or io_uring rings, change the machine (mount, reboot, modules,
  namespaces), raise a resource limit again (root could) or change a file's mode, owner,
  times or extended attributes fail with EPERM.

Each layer is applied when the kernel offers it and reported in the returned dict;
where it is missing (macOS, Windows, an old kernel) the child still runs, with the
resource limits that exist there. Nothing here is needed for correct grades: the grades
come from the grader's own process. The layers protect the machine and the other
students' grades from a file that writes, forks or signals.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import sys
from pathlib import Path

# ----- Landlock ---------------------------------------------------------------------------------

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_RULE_PATH_BENEATH = 1
_LANDLOCK_CREATE_RULESET_VERSION = 1

_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_ALL = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_LIBC = []  # loaded once, before any confinement (find_library would start a process)


def _libc():
    if sys.platform != "linux":
        return None
    if not _LIBC:
        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
            libc.syscall.restype = ctypes.c_long
        except (OSError, AttributeError):
            libc = None
        _LIBC.append(libc)
    return _LIBC[0]


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 when it offers none (or not Linux)."""
    libc = _libc()
    if libc is None:
        return 0
    version = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(version))


def _no_new_privs(libc) -> bool:
    return libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def _readable_except(hidden: Path) -> list[tuple[str, bool]]:
    """(path, is_dir) of everything on the way from / to ``hidden`` except that way itself:
    allowing reads beneath each of them allows reads everywhere but beneath ``hidden``."""
    allowed = []
    here = Path("/")
    for part in hidden.parts[1:]:
        try:
            entries = sorted(os.listdir(here))
        except OSError:
            break
        for entry in entries:
            if entry != part:
                path = here / entry
                allowed.append((str(path), path.is_dir()))
        here = here / part
    return allowed


def _add_read_rule(libc, ruleset: int, path: str, is_dir: bool, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        rule = _PathBeneathAttr(rights if is_dir else rights & _FS_READ_FILE, fd)
        libc.syscall(_SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                     ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def forbid_writes(hidden: Path | None = None) -> int:
    """Landlock: from now on this process may read files but write, create, remove or
    execute none, and (by ABI) neither connect over TCP nor signal outside its sandbox.
    With ``hidden`` (numvae's own package folder) reading is allowed everywhere except
    beneath it: the child cannot re-execute numvae's source to get round the traps.

    Returns the ABI version applied, 0 when Landlock is unavailable or refused.
    """
    libc = _libc()
    abi = landlock_abi()
    if libc is None or abi < 1:
        return 0
    fs = _FS_EXECUTE | _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE_ALL
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    if hidden is not None:
        fs |= _FS_READ_FILE | _FS_READ_DIR
    attr = _RulesetAttr(fs, _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct as that ABI knows it
    fd = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        return 0
    try:
        # No rule grants a write: every handled write-like access is denied everywhere.
        if hidden is not None:
            for path, is_dir in _readable_except(Path(hidden).resolve()):
                _add_read_rule(libc, fd, path, is_dir, _FS_READ_FILE | _FS_READ_DIR)
            for ancestor in Path(hidden).resolve().parents:  # listing the way there is harmless
                _add_read_rule(libc, fd, str(ancestor), True, _FS_READ_DIR)
        if not _no_new_privs(libc) or libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd),
                                                   ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(fd)
    return abi


# ----- seccomp ----------------------------------------------------------------------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38
# x86-64 numbers of the system calls the child never needs.
_DENIED_X86_64 = {
    "socket": 41, "connect": 42, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "kill": 62,
    "ptrace": 101, "rt_sigqueueinfo": 129, "pivot_root": 155, "chroot": 161, "mount": 165,
    "umount2": 166, "reboot": 169, "init_module": 175, "delete_module": 176, "tkill": 200,
    "kexec_load": 246, "unshare": 272, "rt_tgsigqueueinfo": 297, "perf_event_open": 298,
    "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "execveat": 322, "userfaultfd": 323, "pidfd_send_signal": 424,
    "io_uring_setup": 425, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "pidfd_open": 434, "pidfd_getfd": 438, "mount_setattr": 442,
    # limits may not be raised again (root could), nor files' metadata changed
    "setrlimit": 160, "chmod": 90, "fchmod": 91, "chown": 92, "fchown": 93, "lchown": 94, "utime": 132,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
    "fremovexattr": 199, "utimes": 235, "fchownat": 260, "futimesat": 261, "fchmodat": 268,
    "utimensat": 280, "fchmodat2": 452,
}
_CLONE3_X86_64 = 435  # answered ENOSYS, so that the C library falls back to clone (then EPERM)
_PRLIMIT64_X86_64 = 302  # allowed to read a limit (new_limit, argument 2, NULL), not to set one


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _seccomp_program() -> list[tuple[int, int, int, int]]:
    """The BPF filter: (code, jump if true, jump if false, k) per instruction."""
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    deny, enosys, allow = _SECCOMP_RET_ERRNO | _EPERM, _SECCOMP_RET_ERRNO | _ENOSYS, _SECCOMP_RET_ALLOW
    numbers = sorted(_DENIED_X86_64.values())
    n = len(numbers)
    # 0 ld arch; 1 jeq x86-64; 2 ld nr; 3 jge x32; 4 jeq clone3; 5 jeq prlimit64;
    # 6..5+n jeq denied; 6+n ret allow; 7+n ld arg2 low; 8+n jeq 0; 9+n ld arg2 high; 10+n jeq 0;
    # 11+n ret allow; 12+n ret enosys; 13+n ret deny
    limit_at, enosys_at, deny_at = 7 + n, 12 + n, 13 + n
    program = [(load, 0, 0, 4), (jeq, 0, deny_at - 2, _AUDIT_ARCH_X86_64), (load, 0, 0, 0),
               (jge, deny_at - 4, 0, _X32_SYSCALL_BIT), (jeq, enosys_at - 5, 0, _CLONE3_X86_64),
               (jeq, limit_at - 6, 0, _PRLIMIT64_X86_64)]
    for i, number in enumerate(numbers):
        program.append((jeq, deny_at - (6 + i) - 1, 0, number))
    program += [(ret, 0, 0, allow),
                (load, 0, 0, 32), (jeq, 0, deny_at - (8 + n) - 1, 0),  # seccomp_data.args[2], low half
                (load, 0, 0, 36), (jeq, 0, deny_at - (10 + n) - 1, 0),  # high half
                (ret, 0, 0, allow), (ret, 0, 0, enosys), (ret, 0, 0, deny)]
    assert len(program) == deny_at + 1
    return program


def forbid_processes() -> bool:
    """seccomp: no new process or thread, no exec, no signal or ptrace to another process,
    no socket, no io_uring, no mount or reboot. True when the filter is in place."""
    libc = _libc()
    if libc is None or platform.machine() not in ("x86_64", "AMD64"):
        return False
    program = _seccomp_program()
    filters = (_SockFilter * len(program))(*[_SockFilter(*instruction) for instruction in program])
    fprog = _SockFprog(len(program), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    if not _no_new_privs(libc):
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


# ----- resource limits ----------------------------------------------------------------------------

def set_limits(memory_mb: int, cpu_seconds: int) -> dict[str, bool]:
    """Address space, CPU time, file size 0, no core, no new processes (non-root users)."""
    try:
        import resource
    except ImportError:  # Windows
        return {}
    applied = {}
    wanted = {
        "memory": (getattr(resource, "RLIMIT_AS", None), memory_mb * 1024 * 1024),
        "cpu": (resource.RLIMIT_CPU, cpu_seconds),
        "file_size": (resource.RLIMIT_FSIZE, 0),
        "core": (resource.RLIMIT_CORE, 0),
        "processes": (getattr(resource, "RLIMIT_NPROC", None), 0),
    }
    for name, (which, value) in wanted.items():
        if which is None:
            continue
        hard = value + 1 if name == "cpu" else value  # SIGXCPU at the soft limit, SIGKILL 1 s later
        try:
            resource.setrlimit(which, (value, hard))
            applied[name] = True
        except (ValueError, OSError):
            applied[name] = False
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails with EFBIG, not a kill
    return applied


def protect_from_children() -> None:
    """Linux: make this process non-dumpable, so that a process of the same (non-root) user
    cannot open its /proc/<pid>/mem or ptrace it: the grader's memory is off limits even
    where Landlock is missing. (Root can still; Landlock is what stops a root child.)"""
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that forked it ends."""
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def confine(memory_mb: int, cpu_seconds: int, *, landlock: bool = True, seccomp: bool = True,
            hidden: Path | None = None) -> dict:
    """Apply every layer the platform offers; returns what was applied, for the grader."""
    report: dict = {"limits": set_limits(memory_mb, cpu_seconds)}
    report["landlock"] = forbid_writes(hidden) if landlock else 0
    report["seccomp"] = forbid_processes() if seccomp else False
    return report
