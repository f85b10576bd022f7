"""A seccomp filter that takes the network away from a query worker, whatever the query says.

Oxigraph runs ``SERVICE`` (in queries) and ``LOAD`` (in updates) with its own HTTP client, so a
check of the query text can only ever be as good as its agreement with Oxigraph's parser. The
worker therefore installs, once it has started and before it reads a snapshot or a job, a
seccomp-bpf filter under which ``socket()`` fails with ``EACCES`` for every address family (the
worker talks to the server over a socket pair it inherited, and needs no new socket), and
``io_uring_setup``/``io_uring_enter``/``io_uring_register`` fail too (io_uring can open and
connect sockets without the ``socket`` system call). A system call made through another ABI
(i386 ``int 0x80`` with its ``socketcall``, x32) fails whatever it is, as does a system call
number of the x32 range. The filter is installed with ``SECCOMP_FILTER_FLAG_TSYNC`` (every
thread), after ``PR_SET_NO_NEW_PRIVS`` (so no privilege is needed), and cannot be removed.

Measured on this machine (Linux 6.18 x86_64, in a container, as root; pyoxigraph 0.5.13):

- without the filter, ``SELECT * { SERVICE <http://127.0.0.1:9999/x> {…} }`` connects to a local
  listener and returns its rows, and ``LOAD <http://127.0.0.1:9999/y>`` sends it a GET;
- with it, both fail inside Oxigraph with ``Permission denied (os error 13)`` and the listener
  counts no connection (tests/test_server_sandbox.py);
- ``unshare(CLONE_NEWNET)`` also works here (a connect to 127.0.0.1 then fails with
  ``ENETUNREACH``) but needs ``CAP_SYS_ADMIN`` or user namespaces; seccomp needs neither;
- Oxigraph reads no file for ``FROM <file:…>``/``FROM NAMED <file:…>`` (they only select graphs
  of the store), and ``SERVICE <file:///etc/passwd>`` and ``LOAD <file:///etc/passwd>`` fail with
  ``invalid format`` without opening the file (``strace -e trace=openat`` shows no open of it).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
import sys

__all__ = ["SandboxError", "install", "DENIED_ERRNO"]

#: The errno of a denied system call; Oxigraph's message then ends in ``(os error 13)``.
DENIED_ERRNO = errno.EACCES

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_X32_SYSCALL_BIT = 0x40000000

# BPF opcodes (linux/filter.h)
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

# Per architecture: AUDIT_ARCH_*, the seccomp(2) number, the system calls to deny, whether the
# x32 range exists. io_uring_setup/enter/register are 425-427 on both (the generic table).
_ARCHES = {
    "x86_64": (0xC000003E, 317, {"socket": 41, "io_uring_setup": 425, "io_uring_enter": 426,
                                 "io_uring_register": 427}, True),
    "aarch64": (0xC00000B7, 277, {"socket": 198, "io_uring_setup": 425, "io_uring_enter": 426,
                                  "io_uring_register": 427}, False),
}


class SandboxError(RuntimeError):
    """The worker could not take its own network away."""


def _program(audit_arch: int, denied: dict[str, int], x32: bool) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions; jumps are relative to the next one."""
    deny = _SECCOMP_RET_ERRNO | DENIED_ERRNO
    nrs = sorted(denied.values())
    prog = [(_LD_W_ABS, 0, 0, 4)]  # seccomp_data.arch
    # not this ABI → deny; the deny is the last instruction
    body_len = 1 + (1 if x32 else 0) + len(nrs) + 1  # ld nr, [x32], jeq…, ret allow
    prog.append((_JEQ_K, 0, body_len, audit_arch))
    prog.append((_LD_W_ABS, 0, 0, 0))  # seccomp_data.nr
    remaining = len(nrs) + 1  # instructions between this one and the deny: the jeqs and ret allow
    if x32:
        prog.append((_JGE_K, remaining, 0, _X32_SYSCALL_BIT))
    for i, nr in enumerate(nrs):
        prog.append((_JEQ_K, len(nrs) - i, 0, nr))
    prog.append((_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    prog.append((_RET_K, 0, 0, deny))
    return prog


def install() -> None:
    """Deny this process (every thread) new sockets and io_uring, for good; then check it.

    Raises
    ------
    SandboxError
        On a system without seccomp filters (not Linux, another architecture, a kernel
        without ``CONFIG_SECCOMP_FILTER``), or when a test socket can still be opened.
    """
    if not sys.platform.startswith("linux"):
        raise SandboxError(f"seccomp filters need Linux; this is {sys.platform}")
    machine = platform.machine().lower()
    arch = _ARCHES.get({"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine))
    if arch is None:
        raise SandboxError(f"no seccomp filter for the {machine} architecture (x86_64 and aarch64 have one)")
    audit_arch, seccomp_nr, denied, x32 = arch
    prog = _program(audit_arch, denied, x32)
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(seccomp_nr), ctypes.c_ulong(_SECCOMP_SET_MODE_FILTER),
                    ctypes.c_ulong(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog)) != 0:
        raise SandboxError(f"seccomp(SECCOMP_SET_MODE_FILTER) failed: {os.strerror(ctypes.get_errno())}")
    _check()


def _check() -> None:
    """Fail unless opening an IPv4 and an IPv6 socket is now refused."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except PermissionError:
            continue
        except OSError as exc:
            if exc.errno in (errno.EAFNOSUPPORT, errno.EACCES):
                continue
            raise SandboxError(f"the sandbox check failed: {exc}") from None
        raise SandboxError(f"the seccomp filter is installed but a {family.name} socket still opens")
