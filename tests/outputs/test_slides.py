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


@pytest.mark.mirror
def test_parallel_slides_are_the_serial_ones(small_run, monkeypatch) -> None:
    from qpvgeo import settings
    from qpvgeo.outputs import workshop

    codes = list(small_run.qpv.index) * 3  # enough QPV for the workers to start
    monkeypatch.setattr(settings, "workers", 2)
    parallel = workshop._render_pngs(small_run, codes)
    serial = [slides.fiche_png(c, small_run) for c in codes]
    assert [png[:8] for png in parallel] == [b"\x89PNG\r\n\x1a\n"] * len(codes)
    assert parallel == serial
