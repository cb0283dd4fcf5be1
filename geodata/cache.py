"""A disk cache of derived files (decompressed or converted OSM XML), keyed by content hash.

The folder is ``$POSTAL_SITING_CACHE`` when set, else ``~/.cache/postal-siting``. Entries are
written atomically (a temporary file in the same folder, then :func:`os.replace`), so a crash
or a parallel run never leaves a half-written entry under its final name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from geodata.errors import OutputError

__all__ = ["CACHE_ENV_VAR", "cache_dir", "file_sha256", "cached_file"]

log = logging.getLogger(__name__)

CACHE_ENV_VAR = "POSTAL_SITING_CACHE"


def cache_dir() -> Path:
    """Return the cache folder, creating it when needed.

    Returns
    -------
    Path
        ``$POSTAL_SITING_CACHE`` when the variable is set and not empty, otherwise
        ``~/.cache/postal-siting``.

    Raises
    ------
    OutputError
        When the folder cannot be created.
    """
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    folder = Path(env).expanduser() if env else Path.home() / ".cache" / "postal-siting"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot create the cache folder ({exc}). Fix: set {CACHE_ENV_VAR} "
            "to a writable folder"
        ) from exc
    return folder


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes.

    Parameters
    ----------
    path
        The file to hash.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def cached_file(key: str, suffix: str, write: Callable[[Path], None]) -> tuple[Path, bool]:
    """Return the cache entry ``key + suffix``, building it with ``write`` on a miss.

    Parameters
    ----------
    key
        A content hash (or any file-name-safe string) that identifies the entry.
    suffix
        The file-name ending, e.g. ``".osm"``.
    write
        Called with a temporary path in the cache folder; it must write the whole entry there.
        Exceptions propagate, and the temporary file is removed.

    Returns
    -------
    tuple[Path, bool]
        The entry's path and whether it was a cache hit.

    Raises
    ------
    OutputError
        When the cache folder cannot be written.
    """
    folder = cache_dir()
    target = folder / f"{key}{suffix}"
    if target.is_file() and target.stat().st_size > 0:
        log.info("cache hit: %s", target)
        return target, True
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{key}.", suffix=f".tmp{suffix}", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write to the cache folder ({exc}). Fix: set {CACHE_ENV_VAR} "
            "to a writable folder"
        ) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target, False
