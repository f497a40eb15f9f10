"""The example notebook (Samples/python_quickstart.ipynb) executes headless, as
`jupyter nbconvert --execute` runs it, with no error and with its figures."""
import json
import os
import subprocess
import sys

from conftest import MODEL, SAMPLES


def test_notebook_executes(tmp_path):
    notebook = os.path.join(SAMPLES, "python_quickstart.ipynb")
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.timeout=600", "--output-dir", str(tmp_path), notebook],
                          capture_output=True, text=True, env={**os.environ, "NSI_MODEL": MODEL}, cwd=SAMPLES)
    assert done.returncode == 0, done.stderr[-4000:]
    executed = json.load(open(tmp_path / "python_quickstart.ipynb"))
    outputs = [o for cell in executed["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    html = "".join("".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {}))
    assert len(images) == 4, f"{len(images)} figures"
    assert "nsi results" in html and "p_paris[0..29]" in html       # results
    assert "plan patching.nsi for" in html                          # the plan's review
    assert "<u class='error'>99</u>" in html                        # the diagnostics
