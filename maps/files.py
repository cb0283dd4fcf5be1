"""Write a plan's output folder atomically.

The folder holds ``plan.gpkg``, ``summary.json``, ``candidates.csv`` and ``map.html`` (and the
report and exports beside them).

Everything is written to a hidden temporary folder beside the target and moved into place at
the end, so a failed or killed run never leaves half a plan and never spoils an earlier one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geodata.errors import OutputError

__all__ = [
    "atomic_file",
    "atomic_folder",
    "check_output_folder",
    "write_candidates_csv",
    "write_gpkg",
    "write_summary",
]

log = logging.getLogger(__name__)


def _backup_of(target: Path) -> Path:
    return target.with_name(f".{target.name}.previous")


def _restore_interrupted_swap(target: Path) -> None:
    """Put back the previous results if a run was killed between the two renames of a swap."""
    backup = _backup_of(target)
    if backup.exists() and not target.exists():
        backup.rename(target)
        log.warning("restored %s from an interrupted run", target)
    elif backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


def _output_error(target: Path, err: OSError | None = None) -> OutputError:
    """Return an :class:`OutputError` naming the folder, the cause and the fix."""
    blocker = next((p for p in (target, *target.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        why = f"{blocker} is a file, not a folder"
    elif err is not None:
        why = err.strerror or str(err)
    else:
        why = "the folder cannot be written"
    return OutputError(
        f"{target}: cannot write the output folder ({why}). Fix: choose a folder you can "
        "write to with --out, or fix its permissions"
    )


def check_output_folder(target: str | Path) -> Path:
    """Check, before any work is done, that ``target`` can be written by :func:`atomic_folder`.

    Creates the parent folder if needed and writes and removes a probe file in it; the target
    itself is not touched.

    Parameters
    ----------
    target
        The output folder.

    Returns
    -------
    pathlib.Path
        ``target`` as an absolute path.

    Raises
    ------
    OutputError
        If the target or one of its parents is a file, or the parent cannot be created or
        written.
    """
    target = Path(target).absolute()
    if target.exists() and not target.is_dir():
        raise _output_error(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.probe-", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise _output_error(target, err) from err
    return target


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    Parameters
    ----------
    target
        The output folder; its parent is created if needed.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.

    Raises
    ------
    OutputError
        If the parent folder cannot be created or written.
    """
    target = Path(target).absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _restore_interrupted_swap(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as err:
        raise _output_error(target, err) from err
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = _backup_of(target)
    if target.exists():
        target.rename(backup)
    tmp.rename(target)
    os.chmod(target, 0o755)
    shutil.rmtree(backup, ignore_errors=True)


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write every layer to one GeoPackage in WGS84 (EPSG:4326), in the mapping's order.

    Parameters
    ----------
    layers
        Layer name to GeoDataFrame (any CRS).
    path
        The ``.gpkg`` file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    for name, frame in layers.items():
        frame = frame.to_crs(4326)
        for col in frame.columns:
            if col != frame.geometry.name and frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: None if v is None else str(v))
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def atomic_file(target: Path, write: Callable[[Path], object]) -> Path:
    """Write one file atomically: ``write`` fills a temporary file beside it, then it is moved.

    Parameters
    ----------
    target
        The file to (re)place.
    write
        Called with the temporary file's path; writes the whole content there.

    Returns
    -------
    pathlib.Path
        ``target``, complete; on an error it keeps its earlier content and no temporary file
        is left.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def write_summary(summary: Mapping[str, Any], path: Path) -> Path:
    """Write ``summary.json`` (UTF-8, keys in a stable order, Chinese kept readable).

    Parameters
    ----------
    summary
        The summary mapping.
    path
        The ``.json`` file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_candidates_csv(candidates: gpd.GeoDataFrame, path: Path) -> Path:
    """Write candidate sites as CSV with WGS84 ``lon``, ``lat`` and the source tag.

    Parameters
    ----------
    candidates
        Candidate sites (``site_id``, ``source``, ``kind``, ``name``, ``existing``, points).
    path
        The ``.csv`` file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    wgs = candidates.to_crs(4326)
    table = wgs.drop(columns=wgs.geometry.name).copy()
    table.insert(1, "lon", wgs.geometry.x.round(7))
    table.insert(2, "lat", wgs.geometry.y.round(7))
    keep = [
        "site_id",
        "lon",
        "lat",
        "source",
        "kind",
        "name",
        "existing",
        "floor_area_m2",
        "chosen",
    ]
    table[[c for c in keep if c in table.columns]].to_csv(path, index=False, encoding="utf-8")
    return path
