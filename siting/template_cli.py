"""``siting template``: write fill-in tables for a planner (registered in :mod:`siting.cli`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from geodata.table_columns import TABLES
from maps.templates import write_templates

__all__ = ["template"]


class TemplateLang(StrEnum):
    """Language of the headers and example values."""

    zh = "zh"
    en = "en"


def template(
    out: Annotated[Path, typer.Option(help="Folder to write the templates into.")] = Path("."),
    lang: Annotated[TemplateLang, typer.Option(help="Language of the headers.")] = TemplateLang.zh,
) -> None:
    """Write the community table, the inventory and the hub-site table to fill in.

    Each as CSV and XLSX, with one example row; the XLSX file's second sheet says what each
    column takes.
    """
    written = write_templates(out, lang.value)
    console = Console()
    for path in written:
        console.print(str(path))
    for table in TABLES.values():
        console.print(f"\n[bold]{table.title_zh if lang == 'zh' else table.title_en}[/bold]")
        console.print(table.describe(lang.value), markup=False)
