"""Files of proposals on disk, under UPLOAD_DIR, named by the SHA-256 of their content.

A name made from the content says nothing about the proposal, cannot collide, and makes a
second upload of the same bytes free. Files are written to a temporary name and renamed, so a
reader never sees half a file. Who may read a file is decided by the caller; this module only
refuses keys that are not its own (no path tricks).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from app.core.errors import NotFound

KEY_RE = re.compile(r"^science-case/[0-9a-f]{2}/[0-9a-f]{64}\.pdf$")


def key_for(sha256: str) -> str:
    return f"science-case/{sha256[:2]}/{sha256}.pdf"


def path_for(upload_dir: str | os.PathLike[str], key: str) -> Path:
    """The file behind `key`. Raises: NotFound (a key this module never made)."""
    if not KEY_RE.match(key or ""):
        raise NotFound("file_not_found")
    return Path(upload_dir) / key


def store(upload_dir: str | os.PathLike[str], sha256: str, data: bytes) -> str:
    """Write `data` under its content hash (once) and return its key."""
    key = key_for(sha256)
    target = path_for(upload_dir, key)
    if target.exists() and target.stat().st_size == len(data):
        return key
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key


def open_file(upload_dir: str | os.PathLike[str], key: str) -> BinaryIO:
    """Open a stored file for streaming. Raises: NotFound (unknown key or file gone)."""
    path = path_for(upload_dir, key)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise NotFound("file_not_found") from None
