"""nsi.plot: one call per figure, token strings on the axes; SVG parsed, PNG rendered."""
import os
import xml.etree.ElementTree as ElementTree

import matplotlib
import numpy as np
import pytest

import nsi
from conftest import SAMPLES

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in the SVG, so labels can be read back

SVG = "{http://www.w3.org/2000/svg}"


def texts(path):
    root = ElementTree.parse(path).getroot()
    assert root.tag == SVG + "svg"
    return [t.text for t in root.iter(SVG + "text") if t.text]


def png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def inked(path):
    """The share of pixels that are not the background: a figure, not a blank page."""
    import matplotlib.image
    pixels = matplotlib.image.imread(path)[..., :3]
    return float((pixels.min(axis=-1) < 0.95).mean())


@pytest.fixture(scope="module")
def lens(model):
    return model.run(os.path.join(SAMPLES, "logit_lens.nsi"), prompt="The capital of France is")


def test_series_of_an_indexed_save(lens, tmp_path):
    figure = nsi.plot.series(lens, "p_paris")
    figure.savefig(tmp_path / "lens.svg")
    figure.savefig(tmp_path / "lens.png", dpi=80)
    words = texts(tmp_path / "lens.svg")
    assert "p_paris" in words and "layer" in words
    assert any(w.startswith("max ") for w in words)
    width, height = png_size(tmp_path / "lens.png")
    assert width >= 400 and height >= 200
    assert inked(tmp_path / "lens.png") > 0.01


def test_heatmap_labels_positions_with_tokens(model, tmp_path):
    source = """param prompt: str = "The capital of France is"
trace prompt {
    for l in 0..<6 { save norm[l] = model.layers[l].output[0].norm(dim = -1) }
}
"""
    r = model.run(source)
    assert r.stack("norm").shape == (6, 5)
    figure = nsi.plot.heatmap(r, "norm")
    figure.savefig(tmp_path / "heat.svg")
    figure.savefig(tmp_path / "heat.png", dpi=80)
    words = texts(tmp_path / "heat.svg")
    for token in r.tokens:
        assert token in words or token.strip() in [w.strip() for w in words], token
    assert inked(tmp_path / "heat.png") > 0.05


def test_attention_pattern(model, tmp_path):
    r = model.run(os.path.join(SAMPLES, "attention_pattern.nsi"))
    figure = nsi.plot.attention(r, "pattern")
    figure.savefig(tmp_path / "pattern.svg")
    words = [w.strip() for w in texts(tmp_path / "pattern.svg")]
    assert "Mary" in words and "key" in words and "query" in words
    with pytest.raises(ValueError, match="2-D"):
        nsi.plot.attention({"x": np.zeros((2, 2, 2))}, "x")


def test_html_display_of_results_and_plans(model, lens):
    page = lens._repr_html_()
    assert "p_paris[0..29]" in page and "<svg" in page and "top.indices" in page
    plan = model.compile(os.path.join(SAMPLES, "patching.nsi"))
    shown = plan._repr_html_()
    assert "<pre>" in shown and "plan patching.nsi for smollm2-135m" in shown
    assert plan.dump() in shown.replace("&quot;", '"').replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">")
