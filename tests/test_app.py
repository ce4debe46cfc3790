"""The dashboard opens without an exception and without loading TensorFlow."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT
from streamlit.testing.v1 import AppTest


def test_home_page_renders_the_sample_report():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "Recurrent text classification workbench"
    assert any("1,500 rows, read as cp1252" in m.value for m in app.markdown)


def test_home_page_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=30).run()\n"
        "assert not app.exception, app.exception\n"
        "assert 'tensorflow' not in sys.modules, 'the home page imported TensorFlow'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
