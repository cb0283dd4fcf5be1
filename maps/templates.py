"""Fill-in templates of the planner's tables, as CSV and XLSX, in Chinese or English.

Each template holds the header row of one table declared in :mod:`geodata.table_columns` and
one example row; the XLSX file adds a second sheet that says, column by column, what to write
(unit, required or optional, the words accepted). Filled in, a template is read back by
:mod:`geodata.user_inputs` as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from geodata.table_columns import TABLES, Table

__all__ = ["TEMPLATE_NAMES", "template_frame", "write_templates"]

log = logging.getLogger(__name__)

#: File stem of each table's template, by language.
TEMPLATE_NAMES: dict[str, dict[str, str]] = {
    "communities": {"zh": "社区表", "en": "communities"},
    "inventory": {"zh": "现有设施与用房", "en": "inventory"},
    "hub_sites": {"zh": "分拨中心场地", "en": "hub_sites"},
}


def template_frame(table: Table, lang: Literal["zh", "en"]) -> pd.DataFrame:
    """Return a table's template: its headers and one example row.

    Parameters
    ----------
    table
        A table declaration (:data:`geodata.table_columns.TABLES`).
    lang
        ``{"zh", "en"}``: language of the headers and the example values.

    Returns
    -------
    pandas.DataFrame
        One row, one column per declared column, in declaration order.
    """
    return pd.DataFrame({c.header(lang): [c.example_zh if lang == "zh" else c.example_en]
                         for c in table.columns})


def _notes(table: Table, lang: Literal["zh", "en"]) -> pd.DataFrame:
    head = ("列", "说明") if lang == "zh" else ("column", "what to write")
    rows = [line.split(": ", 1) for line in table.describe(lang).splitlines()]
    return pd.DataFrame(rows, columns=list(head))


def write_templates(folder: str | Path, lang: Literal["zh", "en"],
                    tables: Sequence[str] = tuple(TABLES)) -> list[Path]:
    """Write the templates of the planner's tables as CSV and XLSX.

    Parameters
    ----------
    folder
        Where to write (created if missing).
    lang
        ``{"zh", "en"}``.
    tables
        Names of the tables (keys of :data:`geodata.table_columns.TABLES`).

    Returns
    -------
    list of pathlib.Path
        The files written: ``<name>.csv`` (UTF-8 with BOM, which Excel opens as UTF-8) and
        ``<name>.xlsx`` for each table.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tables:
        table = TABLES[name]
        stem = TEMPLATE_NAMES[name][lang]
        frame = template_frame(table, lang)
        csv, xlsx = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
        frame.to_csv(csv, index=False, encoding="utf-8-sig")
        with pd.ExcelWriter(xlsx, engine="openpyxl") as book:
            frame.to_excel(book, sheet_name=table.title_zh if lang == "zh" else name, index=False)
            _notes(table, lang).to_excel(book, sheet_name="说明" if lang == "zh" else "notes",
                                          index=False)
        written += [csv, xlsx]
    log.info("templates: %s", ", ".join(p.name for p in written))
    return written
