"""Publishing marts: a department's mart tables, one parquet per mart and day, into its own bucket.

Reads the warehouse read-only (the dbt build that wrote it has finished) and writes through the
object store, so a department reading its ``s3://marts-<bucket_suffix>/`` never needs the warehouse file.
Every object is replaced whole: re-publishing a day never leaves rows of an earlier run behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from cityplatform.layout import mart_export_key
from cityplatform.objectstore import ObjectStore, ParquetRecord


@dataclass(frozen=True)
class MartExport:
    mart: str
    day: date
    record: ParquetRecord  # its object, rows and checksum


def export_marts(
    store: ObjectStore,
    warehouse: Path,
    *,
    schema: str,
    marts: list[str],
    bucket: str,
    start: date,
    end: date,
) -> list[MartExport]:
    """Export each mart's rows of every day in ``[start, end)``; a dimension (no ``local_date``)
    is exported whole under each day, as that day's snapshot."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    exports = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # timestamps leave as UTC instants
        for mart in marts:
            columns = {
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, mart],
                ).fetchall()
            }
            if not columns:
                raise LookupError(f"{schema}.{mart} is not in the warehouse {warehouse}: build it first")
            for day in days:
                query = f'select * from "{schema}"."{mart}"'
                params: list[object] = []
                if "local_date" in columns:
                    query += " where local_date = ?"
                    params = [day]
                frame = con.execute(f"{query} order by all", params).pl()
                exports.append(
                    MartExport(mart, day, store.put_parquet(bucket, mart_export_key(mart, day), frame))
                )
    return exports
