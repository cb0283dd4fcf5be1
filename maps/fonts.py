"""The font every image and PDF of a run is drawn with: Noto Sans SC, shipped by a package.

Chinese text must not depend on the fonts of the machine that draws it, nor on matplotlib's font
cache (which never sees a font installed after its first run). The font comes from the
``pylopdf-fonts-zh-cn`` package on PyPI: Noto Sans SC Regular, Simplified Chinese with Latin,
from ``notofonts/noto-cjk`` under the SIL Open Font License 1.1 (the licence travels in the
package's metadata). :func:`register_font` adds the file to matplotlib's font manager *by path*
at run time; :func:`font_style` is the matplotlib settings that draw with it, with DejaVu Sans
(shipped inside matplotlib) as the fallback for the few symbols Noto Sans SC lacks.

PDF files use ``pdf.fonttype`` 3: matplotlib embeds only the glyphs a page uses (a subset, named
``XXXXXX+NotoSansSC-Regular``) with a ``ToUnicode`` map, so the text can be searched and copied.
Type 42 is not used: for this CFF-flavoured OpenType font matplotlib writes CFF outlines into a
TrueType font stream, which the PDF format does not allow, and saving took five times as long
(2.0 s against 0.4 s for a one-line page, measured).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib import font_manager, rc_context

from geodata.errors import OutputError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["FONT_FAMILY", "font_path", "register_font", "font_style", "drawing_style"]

#: The family name matplotlib knows the bundled font by.
FONT_FAMILY = "Noto Sans SC"


def font_path() -> Path:
    """Return the path of the bundled Noto Sans SC font file.

    Returns
    -------
    pathlib.Path
        ``NotoSansSC-Regular.otf`` inside the installed ``pylopdf_fonts_zh_cn`` package.

    Raises
    ------
    OutputError
        If the package or its font file is missing (a broken install).
    """
    try:
        import pylopdf_fonts_zh_cn
    except ImportError as exc:
        raise OutputError(
            "the Chinese font package pylopdf-fonts-zh-cn is not installed. "
            "Fix: pip install pylopdf-fonts-zh-cn (it is a dependency of postal-siting)"
        ) from exc
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise OutputError(f"{path}: the bundled Chinese font is missing. Fix: reinstall "
                          "pylopdf-fonts-zh-cn")
    return path


@functools.cache
def register_font() -> str:
    """Add the bundled font to matplotlib's font manager, once per process.

    Returns
    -------
    str
        The family name to draw with (:data:`FONT_FAMILY`).

    Raises
    ------
    OutputError
        If the font file is missing.
    """
    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=path).get_name()


def font_style() -> dict[RcKeyType, Any]:
    """Return the matplotlib settings that draw text with the bundled font.

    Returns
    -------
    dict
        rc parameters: the bundled family first, DejaVu Sans as fallback, Type 3 (subset)
        fonts in PDF, no math text, a hyphen for minus.
    """
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [register_font(), "DejaVu Sans"],
        "pdf.fonttype": 3,
        "text.parse_math": False,
        "axes.unicode_minus": False,
    }


def drawing_style() -> Any:
    """Return a context manager under which figures are drawn with the bundled font.

    Returns
    -------
    contextlib.AbstractContextManager
        ``matplotlib.rc_context`` with :func:`font_style`.
    """
    return rc_context(font_style())
