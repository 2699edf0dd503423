"""CSV and XLSX writers for report tables, with the definitions travelling with the numbers.

Plain writers: the caller (views) builds each `Table` with translated titles, column labels
and definitions. CSV is streamed line by line (flat memory); its first lines are `# `
comments holding the title, the filters and the definitions. XLSX (xlsxwriter, constant
memory mode) puts each table on a sheet and the definitions on a sheet of their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import xlsxwriter


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, number, share (0..1 shown as a percentage), int


@dataclass
class Table:
    name: str  # file and sheet name (ASCII, ≤ 31 characters)
    title: str
    columns: Sequence[Column]
    rows: Iterable[dict]
    definitions: Sequence[str] = field(default_factory=list)
    filters: str = ""


def _cell(value, column: Column):
    if value is None:
        return ""
    if column.kind in ("number", "share") and isinstance(value, float):
        return round(value, 6)
    return value


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV text, one line at a time (the definitions first, as comments)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    for line in (table.title, table.filters, *table.definitions):
        if line:
            writer.writerow([f"# {line}"])
    writer.writerow([c.label for c in table.columns])
    yield flush()
    for row in table.rows:
        writer.writerow([_cell(row.get(c.key), c) for c in table.columns])
        yield flush()


def xlsx_bytes(tables: Sequence[Table], *, definitions_title: str = "Definitions") -> bytes:
    """A workbook: one sheet per table, then one sheet with every table's definitions."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    share = book.add_format({"num_format": "0.0%"})
    number = book.add_format({"num_format": "#,##0.###"})
    for table in tables:
        sheet = book.add_worksheet(table.name[:31])
        sheet.write(0, 0, table.title, bold)
        if table.filters:
            sheet.write(1, 0, table.filters)
        for col, column in enumerate(table.columns):
            sheet.write(3, col, column.label, bold)
            sheet.set_column(col, col, max(12, min(40, len(column.label) + 2)))
        for r, row in enumerate(table.rows, start=4):
            for col, column in enumerate(table.columns):
                value = _cell(row.get(column.key), column)
                fmt = share if column.kind == "share" else number if column.kind == "number" else None
                if fmt is None:
                    sheet.write(r, col, value)
                else:
                    sheet.write(r, col, value, fmt)
    sheet = book.add_worksheet(definitions_title[:31])
    sheet.set_column(0, 0, 120)
    line = 0
    for table in tables:
        sheet.write(line, 0, table.title, bold)
        line += 1
        for definition in table.definitions:
            sheet.write(line, 0, definition)
            line += 1
        line += 1
    book.close()
    return out.getvalue()


def csv_rows(header: Sequence[str], rows: Iterable[Sequence], *, comments: Sequence[str] = (), chunk: int = 2000):
    """Plain rows (tuples) as CSV text in chunks of `chunk` lines: for exports of raw rows
    (all visits), where building a dict per row would cost more than writing it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for line in comments:
        writer.writerow([f"# {line}"])
    writer.writerow(header)
    rows = iter(rows)
    while True:
        batch = list(islice(rows, chunk))
        if batch:
            writer.writerows(batch)  # the csv module writes None as an empty field
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < chunk:
            return
