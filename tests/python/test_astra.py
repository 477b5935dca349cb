"""Geometries from ASTRA dicts: ASTRA's image layout and conventions without ASTRA, and against astra-toolbox
when it is installed (skipped otherwise)."""

import math

import numpy as np
import pytest

import pnpdist

N = 48
ANGLES = np.linspace(0, math.pi, 30, endpoint=False)
FAN_ANGLES = np.linspace(0, 2 * math.pi, 40, endpoint=False)


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def dicts(kind, window=None):
    """proj_geom and vol_geom dicts as astra.create_proj_geom / create_vol_geom write them."""
    vol = {"GridRowCount": N, "GridColCount": N, "option": window or {
        "WindowMinX": -N / 2, "WindowMaxX": N / 2, "WindowMinY": -N / 2, "WindowMaxY": N / 2}}
    if kind == "parallel":
        return {"type": "parallel", "DetectorWidth": 1.0, "DetectorCount": 72, "ProjectionAngles": ANGLES}, vol
    return {"type": "fanflat", "DetectorWidth": 1.5, "DetectorCount": 96, "ProjectionAngles": FAN_ANGLES,
            "DistanceOriginSource": 150.0, "DistanceOriginDetector": 90.0}, vol


def image():
    rng = np.random.default_rng(0)
    return pnpdist.shepp_logan((N, N), dtype="float64") + 0.1 * rng.random((N, N))


def test_astra_layout_is_pnpdist_layout_flipped():
    # ASTRA's rows run from +y to -y: the converted geometry on an array equals pnpdist's own geometry on the
    # array flipped vertically.
    b = image()
    native = {"parallel": pnpdist.parallel_beam_2d(ANGLES, 72, (N, N)),
              "fan": pnpdist.fan_beam_2d(FAN_ANGLES, 96, 150.0, 90.0, (N, N), detector_pixel_size=1.5)}
    for kind, ours in (("parallel", "parallel"), ("fanflat", "fan")):
        g = pnpdist.geometry_from_astra(*dicts(kind))
        assert g.beam == ours
        converted = pnpdist.JosephProjector2D(g, dtype="float64").forward(b)
        reference = pnpdist.JosephProjector2D(native[ours], dtype="float64").forward(np.flipud(b).copy())
        assert rel(converted, reference) < 1e-5


def test_vector_types_and_windows():
    proj, vol = dicts("parallel")
    g = pnpdist.geometry_from_astra(proj, vol)
    as_vec = {"type": "parallel_vec", "DetectorCount": 72, "Vectors": np.stack(
        [np.sin(ANGLES), -np.cos(ANGLES), 0 * ANGLES, 0 * ANGLES, np.cos(ANGLES), np.sin(ANGLES)], axis=1)}
    assert np.array_equal(pnpdist.geometry_from_astra(as_vec, vol).vectors, g.vectors)
    # A window moved by whole pixels shows the image moved the other way.
    b = image()
    moved = {"WindowMinX": -N / 2 + 3, "WindowMaxX": N / 2 + 3, "WindowMinY": -N / 2, "WindowMaxY": N / 2}
    shifted = pnpdist.JosephProjector2D(pnpdist.geometry_from_astra(proj, dicts("parallel", moved)[1]), "float64")
    padded = np.zeros((N, N + 6))
    padded[:, 6:] = b  # the window x in [-21, 27] is columns 6.. of the centred grid x in [-27, 27]
    wide = pnpdist.JosephProjector2D(pnpdist.geometry_from_astra(
        proj, {"GridRowCount": N, "GridColCount": N + 6}), "float64")
    assert rel(shifted.forward(b), wide.forward(padded)) < 1e-5
    with pytest.raises(ValueError, match="square pixels"):
        pnpdist.geometry_from_astra(proj, dicts("parallel", {
            "WindowMinX": -N, "WindowMaxX": N, "WindowMinY": -N / 2, "WindowMaxY": N / 2})[1])
    with pytest.raises(ValueError, match="proj_geom type"):
        pnpdist.geometry_from_astra({"type": "fanflat3d"}, vol)


def test_against_astra_toolbox():
    astra = pytest.importorskip("astra")
    b = image()
    proj, vol = dicts("parallel")
    pid = astra.create_projector("linear", proj, vol)  # ASTRA's CPU Joseph projector
    _, sinogram = astra.create_sino(b.astype(np.float32), pid)
    op = pnpdist.JosephProjector2D(pnpdist.geometry_from_astra(proj, vol), dtype="float64")
    assert rel(op.forward(b), sinogram) < 1e-5  # measured 3.7e-6 (the image flipped: 0.16)
    y = np.random.default_rng(1).standard_normal(sinogram.shape)
    _, back = astra.create_backprojection(y.astype(np.float32), pid)
    assert rel(op.adjoint(y), back) < 1e-4  # measured 3.4e-5
    # Fan beam: ASTRA has no Joseph fan-beam CPU projector; its strip model is the closest (its line model: 2.5%).
    proj, vol = dicts("fanflat")
    _, strip = astra.create_sino(b.astype(np.float32), astra.create_projector("strip_fanflat", proj, vol))
    fan = pnpdist.JosephProjector2D(pnpdist.geometry_from_astra(proj, vol), dtype="float64").forward(b)
    assert rel(fan, strip) < 0.015  # measured 0.0073 (the image flipped: 0.16)
