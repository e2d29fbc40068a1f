"""Many rows in one statement, by the driver's own executemany.

SQLAlchemy Core's executemany does generic work per row and per value that costs more than
SQLite's insert of the row; here the columns' bind processors run once per distinct value
(a batch repeats its dates, states and timestamps), and nothing else runs per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert(
    session: Session,
    table: sa.Table,
    count: int,
    columns: Mapping[str, Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    as_is: Mapping[str, Sequence[Any]] | None = None,
    suffix: str = "",
) -> None:
    """INSERT `count` rows into `table`: `columns` holds each column's values (one per row),
    `constants` a value every row shares, `as_is` values already in the driver's form (JSON
    text encoded once, for instance: the column's own processor would encode it again).
    `suffix` follows the VALUES clause (an ON CONFLICT clause)."""
    if count == 0:
        return
    if any(len(values) != count for values in (*columns.values(), *(as_is or {}).values())):
        raise ValueError(f"every column needs {count} values")
    connection = session.connection()
    dialect = connection.dialect
    constants = constants or {}
    as_is = as_is or {}
    names = [*columns, *constants, *as_is]
    mark = _MARKS.get(dialect.paramstyle)
    if mark is None:  # no driver here speaks another style; Core handles it if one does
        if suffix:
            raise NotImplementedError(f"paramstyle {dialect.paramstyle} with a suffix")
        rows = [
            dict(zip(names, row, strict=True))
            for row in zip(
                *columns.values(),
                *(repeat(value, count) for value in constants.values()),
                *as_is.values(),
                strict=False,
            )
        ]
        connection.execute(sa.insert(table), rows)
        return

    def processor(name: str) -> Any:
        column_type = table.c[name].type
        return column_type.dialect_impl(dialect).bind_processor(dialect)

    data: list[Any] = []
    for name, values in columns.items():
        process = processor(name)
        if process is not None:
            memo: dict[Any, Any] = {None: None}
            for value in set(values):
                if value not in memo:
                    memo[value] = process(value)
            values = [memo[value] for value in values]
        data.append(values)
    for name, value in constants.items():
        process = processor(name)
        data.append(repeat(value if process is None or value is None else process(value), count))
    data += as_is.values()
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(mark for _ in names)}){suffix}"
    )
    connection.exec_driver_sql(sql, list(zip(*data, strict=False)))
