"""Chinese text in the images and the PDF, on a machine with no Chinese font of its own.

Each check runs in a fresh process whose matplotlib cache folder, fontconfig configuration and
home are empty temporary folders, and whose font manager keeps only the fonts matplotlib itself
ships (DejaVu): what the report shows there is what the package brings, not what this machine
happens to have installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maps.fonts import font_path
from maps.i18n import label

ROOT = Path(__file__).resolve().parents[1]

#: Run in the child: forget every font that is not matplotlib's own, then run the check.
_PRELUDE = """
import json, sys
import matplotlib
from matplotlib import font_manager
own = matplotlib.get_data_path()
font_manager.fontManager.ttflist = [
    f for f in font_manager.fontManager.ttflist if f.fname.startswith(own)]
"""

_WRITE_REPORT = _PRELUDE + """
from maps.report import write_report
write_report({"status": "optimal", "gap": 0.0}, {}, sys.argv[1], lang="zh")
"""

#: Each character of a title as ``report.png`` draws it alone; prints the characters that
#: look the same as another one. A character no font has is drawn as its block's missing-glyph
#: box (matplotlib's Last Resort font, or .notdef in older versions): one box for every Chinese
#: character, so two different characters that draw alike are boxes.
_GLYPHS = _PRELUDE + """
from collections import defaultdict
import hashlib
from matplotlib.image import imread
from maps.report import write_report

looks = defaultdict(list)
for i, ch in enumerate(dict.fromkeys(sys.argv[1])):
    write_report({"status": "optimal"}, {}, f"c{i}", lang="zh", title=ch, printable=("png",))
    image = imread(f"c{i}/report.png")
    band = image[: int(0.045 * image.shape[0])]  # the title band, above any warning
    assert band.min() < 0.5, "nothing drawn"
    looks[hashlib.sha256(band.tobytes()).hexdigest()].append(ch)
print(json.dumps(sorted("".join(chars) for chars in looks.values() if len(chars) > 1)))
"""


def _run(code: str, arg: str, tmp_path: Path) -> str:
    empty = tmp_path / "no-fonts"
    empty.mkdir(exist_ok=True)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{empty}</dir>"
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
                    encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "FONTCONFIG_FILE": str(conf), "XDG_DATA_HOME": str(empty), "HOME": str(empty),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code, arg], env=env, capture_output=True,
                          text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pdf_embeds_a_subset_of_the_bundled_font_and_its_text_reads_chinese(tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test extra")
    _run(_WRITE_REPORT, str(tmp_path / "out"), tmp_path)
    reader = pypdf.PdfReader(tmp_path / "out" / "report.pdf")
    page = reader.pages[0]
    assert label("report.title", "zh") in page.extract_text()
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    names = [str(f["/BaseFont"]) for f in fonts]
    cjk = [n for n in names if n.endswith("+NotoSansSC-Regular")]
    assert cjk, names  # a subset (tagged XXXXXX+) of the bundled font, not DejaVu
    # the subset holds the glyphs drawn, not the font's 30,000
    glyphs = sum(len(f["/CharProcs"]) for f in fonts if str(f["/BaseFont"]) in cjk)
    assert 10 < glyphs < 1000
    assert (tmp_path / "out" / "report.pdf").stat().st_size < 500_000


def test_title_glyphs_are_not_the_missing_glyph_box(tmp_path):
    title = label("report.title", "zh") + "天府广场"
    alike = json.loads(_run(_GLYPHS, title, tmp_path))
    assert alike == []


def test_the_font_travels_with_the_package():
    path = font_path()
    assert path.suffix == ".otf" and path.stat().st_size > 1_000_000
    assert "site-packages" in path.parts or "dist-packages" in path.parts
