"""Writing files: every failure of `kg export -o` (and `kg viz -o`) is one line and exit 1 with
nothing left behind, SIGTERM included; new files get the umask's permissions."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from kg.cli import cli


def _kg(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_failure(result, *fragments):
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert all(f in lines[0] for f in fragments), lines
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["export"], ["viz"]])
def test_into_a_missing_directory(tmp_path, command):
    target = tmp_path / "missing" / "x.out"
    assert_one_line_failure(_kg(*command, "-o", target), f"cannot write {target}: no directory {target.parent}")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("command", [["export"], ["viz"]])
def test_onto_a_directory(tmp_path, command):
    assert_one_line_failure(_kg(*command, "-o", tmp_path), f"{tmp_path} is a directory")
    assert list(tmp_path.iterdir()) == []


def test_onto_an_unwritable_path(tmp_path, monkeypatch):
    """Root may write anywhere, so the refusal the kernel gives a user is made here."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "x.trig"
    assert_one_line_failure(_kg("export", "-o", target), f"cannot write {target}: Permission denied")
    assert list(tmp_path.iterdir()) == []


def _tiny_tmpfs(path):
    """A 64 KiB tmpfs at ``path`` (root only), or None where it cannot be mounted."""
    path.mkdir()
    if os.geteuid() != 0:
        return None
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True)
    return path if done.returncode == 0 else None


def test_on_a_full_disk(tmp_path, monkeypatch):
    """The TriG export (about 250 kB) cannot fit a 64 KiB tmpfs; where no tmpfs can be mounted,
    the write fails with ENOSPC by hand."""
    full = _tiny_tmpfs(tmp_path / "full")
    try:
        if full is None:
            def no_space(fd):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            monkeypatch.setattr(os, "fsync", no_space)
        target = tmp_path / "full" / "x.trig"
        assert_one_line_failure(_kg("export", "-o", target), f"cannot write {target}: No space left on device")
        assert list((tmp_path / "full").iterdir()) == []
    finally:
        if full is not None:
            subprocess.run(["umount", str(full)], check=False)


def test_full_standard_output_is_one_line(tmp_path):
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "export"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["Error: cannot write to standard output: No space left on device"]


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    """A child writes with fsync held for 60 s; SIGTERM once its temporary file exists. It must
    remove the file, say so on one line and exit 143 (128 + SIGTERM), the target never made."""
    target = tmp_path / "x.trig"
    code = textwrap.dedent(f"""
        import os, time
        os.fsync = lambda fd: time.sleep(60)
        from kg.cli import main
        import sys
        sys.argv = ["kg", "export", "-o", {str(target)!r}]
        main()
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            assert child.poll() is None and time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 143
    assert err.splitlines() == [f"Error: stopped by SIGTERM; {target} was not written"]
    assert list(tmp_path.iterdir()) == []


def test_new_file_gets_the_umask_permissions(tmp_path):
    """mkstemp makes 0600; with umask 022 a new file is 0644, with 077 it is 0600."""
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            target = tmp_path / f"x-{umask:o}.trig"
            assert _kg("export", "-o", target).exit_code == 0
        finally:
            os.umask(old)
        assert target.stat().st_mode & 0o777 == mode
