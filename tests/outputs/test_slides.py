"""Tests of qpvgeo.outputs.slides: the slide images of an export (real data, three QPV)."""

from __future__ import annotations

import pytest

from qpvgeo.outputs import slides

from ..conftest import SMALL_RUN_CODES


@pytest.mark.mirror
def test_pngs_are_images_of_the_expected_size(exported) -> None:
    from PIL import Image

    out, _ = exported
    for name in [*SMALL_RUN_CODES, "viabilite"]:
        path = out / "maps" / "png" / f"{name}.png"
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.size == slides.PNG_SIZE, (name, img.size)
            img.verify()
