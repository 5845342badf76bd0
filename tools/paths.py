"""Folders the product may create its files in (`--data-dir`, SPRINTPILOT_DATA_DIR, the folder of
the sandbox's `--state`): a directory we can write, or one we can create, and never a system
directory (running as root, every folder is "writable", so that check alone would not stop
`--data-dir /etc`). Imports nothing from the project: every layer may use it."""

from __future__ import annotations

import os
from pathlib import Path

# Refused together with everything under them: pseudo file systems and the system's own files.
SYSTEM_TREES = tuple(
    Path(p) for p in ("/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot")
)
# Refused themselves (their subfolders may be the right place, e.g. /var/lib/sprintpilot).
SYSTEM_DIRS = frozenset(
    Path(p)
    for p in (
        "/",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/local",
        "/usr/share",
        "/var",
        "/var/lib",
        "/run",
        "/opt",
        "/home",
        "/root",
        "/srv",
        "/mnt",
        "/media",
    )
)


def _resolved(path: Path) -> Path:
    try:
        return path.expanduser().resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop
        return Path(os.path.abspath(path.expanduser()))


def system_directory(path: Path, *, follow_links: bool = True) -> bool:
    """Whether `path` (after following symlinks) is a system directory or lies in a system tree.
    `follow_links=False` decides from the path's text alone, touching no file system: what code on
    an event loop may call (the Agent Server refuses blocking calls there)."""
    p = _resolved(path) if follow_links else Path(os.path.normpath(os.path.join("/", os.fspath(path))))
    return p in SYSTEM_DIRS or any(p == tree or tree in p.parents for tree in SYSTEM_TREES)


def system_directory_problem(path: Path) -> str | None:
    """`writable_dir_problem`'s first check, from the path's text alone (no file-system calls)."""
    if path.is_absolute() and system_directory(path, follow_links=False):
        return f"{path} is a system directory; pick a folder of your own"
    return None


def writable_dir_problem(path: Path) -> str | None:
    """Why `path` cannot be a folder of ours (one line, naming it), or None when it can: it must be
    a directory we can create files in, or not exist yet below one we can create folders in."""
    if system_directory(path):
        return f"{path} is a system directory; pick a folder of your own"
    p = _resolved(path)
    if p.exists():
        if not p.is_dir():
            return f"{path} is not a directory"
        if not os.access(p, os.W_OK | os.X_OK):
            return f"{path} is not writable"
        return None
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{path} cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path} cannot be created: {parent} is not writable"
    return None
