"""What a run records about where it ran: git commit, Python, platform, package versions."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any


@functools.cache
def _packages() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[name.lower()] = dist.version
    return dict(sorted(out.items()))


def _git(args: list[str], cwd: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_info(cwd: str | None = None) -> dict[str, Any]:
    where = cwd or os.getcwd()
    commit = _git(["rev-parse", "HEAD"], where)
    if commit is None:
        return {}
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return {
        "commit": commit,
        "branch": _git(["rev-parse", "--abbrev-ref", "HEAD"], where),
        "dirty": bool(status),
    }


def collect(*, packages: bool = True) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hostname": platform.node(),
        "entry_point": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else None,
    }
    git = git_info()
    if git:
        info["git"] = git
    if packages:
        info["packages"] = _packages()
    return info
