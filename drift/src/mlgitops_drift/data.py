"""Reading the reference data and the current window: Parquet or CSV, local or in an object store.

A URI names one file or a directory (every ``.parquet``/``.csv`` file under it, in name
order). fsspec resolves the scheme (``s3://`` needs ``s3fs``, ``gs://`` ``gcsfs``,
``az://``/``abfs://`` ``adlfs``: the package's extras), pyarrow parses the files.
Every problem is a ``DataError`` naming the URI, never a half-read table.
"""

from __future__ import annotations

import datetime as dt

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


class DataError(Exception):
    """The data cannot be read or does not hold what the check needs."""


def _format(path: str) -> str | None:
    lowered = path.lower()
    return next((kind for suffix, kind in READERS.items() if lowered.endswith(suffix)), None)


def _files(uri: str) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    """The data files ``uri`` names; an empty list when nothing is there."""
    try:
        fs, path = fsspec.core.url_to_fs(uri)
    except (ImportError, ValueError) as error:  # unknown scheme, or its fsspec extra not installed
        raise DataError(f"cannot open {uri}: {error}") from error
    try:
        if not fs.exists(path):
            return fs, []
        if fs.isdir(path):
            found = [p for p in fs.find(path) if _format(p) is not None]
            return fs, sorted(found)
    except OSError as error:
        raise DataError(f"cannot list {uri}: {error}") from error
    if _format(path) is None:
        raise DataError(f"{uri} is neither Parquet (.parquet) nor CSV (.csv)")
    return fs, [path]


def _read_file(fs: fsspec.AbstractFileSystem, path: str) -> pa.Table:
    with fs.open(path, "rb") as stream:
        if _format(path) == "parquet":
            return pq.read_table(stream)
        return pacsv.read_csv(stream)


def read_table(uris: list[str], columns: list[str]) -> pa.Table | None:
    """``columns`` of every file under ``uris``, concatenated; None when no URI holds a file."""
    tables: list[pa.Table] = []
    for uri in uris:
        fs, paths = _files(uri)
        for path in paths:
            try:
                table = _read_file(fs, path)
            except (OSError, pa.ArrowException) as error:
                raise DataError(f"cannot read {path} (from {uri}): {error}") from error
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise DataError(
                    f"{path} (from {uri}) has no column {', '.join(missing)}; "
                    f"its columns are {', '.join(table.column_names) or 'none'}"
                )
            tables.append(table.select(columns))
    if not tables:
        return None
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowException as error:
        raise DataError(f"the files under {', '.join(uris)} disagree on column types: {error}") from error


def window_uris(
    template: str, now: dt.datetime, window_seconds: int, model: str, environment: str
) -> list[str]:
    """The current window's URIs: ``{date}`` (UTC, ``YYYY-MM-DD``) for every day the window touches,
    oldest first; ``{model}`` and ``{environment}`` filled in."""
    start = (now - dt.timedelta(seconds=window_seconds)).date()
    days = [start + dt.timedelta(days=i) for i in range((now.date() - start).days + 1)]
    uris = [
        template.replace("{date}", day.isoformat())
        .replace("{model}", model)
        .replace("{environment}", environment)
        for day in days
    ]
    return list(dict.fromkeys(uris))  # a template without {date} names one place


Sample = NDArray[np.float64] | list[str]


def feature_sample(table: pa.Table, feature: str, numeric: bool, where: str) -> Sample:
    """The feature's non-null values: floats when the reference is numeric, else strings."""
    column = table.column(feature).drop_null()
    if numeric:
        try:
            values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowException as error:
            raise DataError(f"feature {feature} is numeric in the reference but not in {where}") from error
        return np.asarray(values[~np.isnan(values)], dtype=np.float64)
    return [str(v) for v in column.to_pylist()]


def is_numeric(table: pa.Table, feature: str) -> bool:
    kind = table.schema.field(feature).type
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))
