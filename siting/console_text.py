"""Console lines whose text is printed as it is: brackets in a message are never markup.

rich reads ``[...]`` in a printed string as a style tag and drops the ones it knows
(``[area.districts]`` in an error message disappeared that way). Every line the command line
prints with text from a message, a file, a scenario or a rule is built here as a
:class:`rich.text.Text`, styled only where the code means it.
"""

from __future__ import annotations

from rich.text import Text

__all__ = ["labelled", "stage_line"]


def labelled(label: str, style: str, text: object) -> Text:
    """Return ``label`` in ``style``, a space, then ``text`` as it is.

    Parameters
    ----------
    label
        E.g. ``"error:"``.
    style
        A rich style, e.g. ``"red"``.
    text
        The message (its ``str``), never read as markup.

    Returns
    -------
    rich.text.Text
        The line.
    """
    return Text.assemble((label, style), " ", str(text))


def stage_line(stage: str, what: str, seconds: float | None = None) -> Text:
    """Return a progress line: the stage in bold, right-aligned, then ``what`` as it is.

    Parameters
    ----------
    stage
        The stage's name (``"read"``, ``"solving"``, ...).
    what
        What it did, never read as markup.
    seconds
        The stage's seconds, shown dim after it; ``None`` for none.

    Returns
    -------
    rich.text.Text
        The line.
    """
    line = Text.assemble((f"{stage:>11}", "bold"), "  ", what)
    if seconds is not None:
        line.append(f"  ({seconds:.2f} s)", style="dim")
    return line
