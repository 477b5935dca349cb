"""3D geometries from ASTRA dicts ('parallel3d', 'cone', 'parallel3d_vec', 'cone_vec'): ASTRA's documented
conventions checked by hand without ASTRA (single voxels projected onto the detector pixel the convention
names, the vector forms against the circular ones), and against astra-toolbox's own conversions when it is
installed (skipped otherwise; its 3D projectors also need a CUDA GPU)."""

import math

import numpy as np
import pytest

import pnpdist

ANGLES = np.linspace(0, 2 * math.pi, 9, endpoint=False)


def vol_geom(rows, cols, slices, window=None):
    """The dict of astra.create_vol_geom(rows, cols, slices[, min_x, max_x, min_y, max_y, min_z, max_z])."""
    min_x, max_x, min_y, max_y, min_z, max_z = window or (-cols / 2, cols / 2, -rows / 2, rows / 2,
                                                          -slices / 2, slices / 2)
    return {"GridRowCount": rows, "GridColCount": cols, "GridSliceCount": slices,
            "option": {"WindowMinX": min_x, "WindowMaxX": max_x, "WindowMinY": min_y, "WindowMaxY": max_y,
                       "WindowMinZ": min_z, "WindowMaxZ": max_z}}


def cone(angles=ANGLES, rows=7, cols=9, spacing=(1.5, 2.0), source=40.0, detector=25.0):
    """astra.create_proj_geom('cone', spacing_x, spacing_y, rows, cols, angles, source, detector)."""
    return {"type": "cone", "DetectorSpacingX": spacing[0], "DetectorSpacingY": spacing[1],
            "DetectorRowCount": rows, "DetectorColCount": cols, "ProjectionAngles": np.asarray(angles),
            "DistanceOriginSource": source, "DistanceOriginDetector": detector}


def parallel3d(angles=ANGLES, rows=7, cols=9, spacing=(1.5, 2.0)):
    return {"type": "parallel3d", "DetectorSpacingX": spacing[0], "DetectorSpacingY": spacing[1],
            "DetectorRowCount": rows, "DetectorColCount": cols, "ProjectionAngles": np.asarray(angles)}


def as_vec(proj):
    """The '_vec' dict of a circular one, written out from ASTRA's 3D geometry documentation: (source or ray,
    detector centre d, u = DetectorSpacingX (cos, sin, 0), v = DetectorSpacingY (0, 0, 1))."""
    t = np.asarray(proj["ProjectionAngles"])
    s, c, o = np.sin(t), np.cos(t), np.zeros_like(t)
    sx, sy = proj["DetectorSpacingX"], proj["DetectorSpacingY"]
    u_v = [sx * c, sx * s, o, o, o, o + sy]
    if proj["type"] == "cone":
        so, od = proj["DistanceOriginSource"], proj["DistanceOriginDetector"]
        vectors, kind = np.stack([so * s, -so * c, o, -od * s, od * c, o, *u_v], axis=1), "cone_vec"
    else:
        vectors, kind = np.stack([s, -c, o, o, o, o, *u_v], axis=1), "parallel3d_vec"
    return {"type": kind, "DetectorRowCount": proj["DetectorRowCount"],
            "DetectorColCount": proj["DetectorColCount"], "Vectors": vectors}


def volume(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("make", [cone, parallel3d])
def test_circular_types_are_pnpdist_circular_orbits(make):
    # ASTRA's 3D volume (slices, rows, cols) is (z, y, x) with indices growing with the coordinates, as
    # pnpdist's: the default window gives pnpdist's own circular orbit, with no mirroring.
    proj, vol = make(), vol_geom(6, 8, 5)
    g = pnpdist.geometry_from_astra(proj, vol)
    assert g.beam == ("cone" if make is cone else "parallel")
    assert g.volume_shape == (5, 6, 8) and g.detector_shape == (7, 9) and g.projection_shape == (9, 7, 9)
    if make is cone:
        native = pnpdist.cone_beam(ANGLES, (7, 9), 40.0, 25.0, (5, 6, 8), detector_pixel_size=(2.0, 1.5))
    else:
        native = pnpdist.parallel_beam_3d(ANGLES, (7, 9), (5, 6, 8), detector_pixel_size=(2.0, 1.5))
    assert np.allclose(g.vectors, native.vectors, rtol=0, atol=1e-12)
    x = volume((5, 6, 8))
    a, b = (pnpdist.JosephProjector3D(geometry, "float64").forward(x) for geometry in (g, native))
    assert rel(a, b) < 1e-12  # the vectors agree to round-off (sin and cos evaluated apart)


@pytest.mark.parametrize("make", [cone, parallel3d])
def test_vector_types_give_the_same_projector(make):
    proj, vol = make(), vol_geom(6, 8, 5, (-5, 3, -2, 4, -1.5, 3.5))  # an off-centre window
    circular = pnpdist.geometry_from_astra(proj, vol)
    vec = pnpdist.geometry_from_astra(as_vec(proj), vol)
    assert vec.beam == circular.beam and vec.projection_shape == circular.projection_shape
    x = volume((5, 6, 8), seed=1)
    a, b = (pnpdist.JosephProjector3D(g, "float64").forward(x) for g in (circular, vec))
    assert rel(b, a) < 1e-12
    a32, b32 = (pnpdist.JosephProjector3D(g).forward(x.astype(np.float32)) for g in (circular, vec))
    assert rel(b32, a32) < 1e-6


def single_voxel(shape, index):
    x = np.zeros(shape)
    x[index] = 1.0
    return x


def test_single_voxel_parallel_beam():
    # A 5^3 volume, default window: voxel (slice, row, col) = (4, 1, 3) is centred at (x, y, z) = (1, -1, 2).
    # 7 x 9 detector of unit pixels, pixel (r, c) centred at d + (c - 4) u + (r - 3) v. Angle 0: ray
    # (0, -1, 0), u = (1, 0, 0): column 4 + 1 = 5. Angle pi/2: ray (1, 0, 0), u = (0, 1, 0): column 4 - 1 = 3.
    # Both: v = (0, 0, 1), row 3 + 2 = 5; the ray crosses one voxel side: the value 1.
    proj = parallel3d([0.0, math.pi / 2], rows=7, cols=9, spacing=(1.0, 1.0))
    op = pnpdist.JosephProjector3D(pnpdist.geometry_from_astra(proj, vol_geom(5, 5, 5)), "float64")
    y = op.forward(single_voxel((5, 5, 5), (4, 1, 3)))
    expected = np.zeros((2, 7, 9))
    expected[0, 5, 5] = expected[1, 5, 3] = 1.0
    assert np.allclose(y, expected, rtol=0, atol=1e-12)
    # ASTRA's data layout (detector rows, views, detector cols): the same values at [5, 0, 5] and [5, 1, 3].
    astra_layout = np.ascontiguousarray(np.swapaxes(y, 0, 1))
    assert astra_layout[5, 0, 5] == 1.0 and astra_layout[5, 1, 3] == 1.0

    # The window moved by (+2, 0, -1) puts the voxel at (3, -1, 1): column 4 + 3 = 7, row 3 + 1 = 4 (angle 0).
    moved = vol_geom(5, 5, 5, (-0.5, 4.5, -2.5, 2.5, -3.5, 1.5))
    y = pnpdist.JosephProjector3D(pnpdist.geometry_from_astra(proj, moved), "float64").forward(
        single_voxel((5, 5, 5), (4, 1, 3)))
    assert y[0, 4, 7] == pytest.approx(1.0, abs=1e-12) and y[0].sum() == pytest.approx(1.0, abs=1e-12)
    # A window of twice the size: voxels of side 2, the voxel at (2, -2, 4); with detector pixels of 2 it lands
    # on column 4 + 1, row 3 + 2 and the ray crosses 2 units of it.
    wide = vol_geom(5, 5, 5, (-5, 5, -5, 5, -5, 5))
    proj2 = parallel3d([0.0], rows=7, cols=9, spacing=(2.0, 2.0))
    g = pnpdist.geometry_from_astra(proj2, wide)
    assert g.voxel_size == 2.0
    y = pnpdist.JosephProjector3D(g, "float64").forward(single_voxel((5, 5, 5), (4, 1, 3)))
    assert y[0, 5, 5] == pytest.approx(2.0, abs=1e-12) and y.sum() == pytest.approx(2.0, abs=1e-12)


def test_single_voxel_cone_beam():
    # Source at distance 10 from the origin, detector at 10: at angle 0 the source is (0, -10, 0), the
    # detector centre (0, 10, 0), u = (1, 0, 0), v = (0, 0, 1); 11 x 13 unit pixels, centre (row 5, col 6).
    # A point (x, y, z) lands on the detector at (x, z) * 20 / (10 + y).
    proj = cone([0.0, math.pi], rows=11, cols=13, spacing=(1.0, 1.0), source=10.0, detector=10.0)
    op = pnpdist.JosephProjector3D(pnpdist.geometry_from_astra(proj, vol_geom(5, 5, 5)), "float64")
    cases = [
        # voxel (slice, row, col) = (3, 2, 3) at (1, 0, 1): magnified 2 to (2, 2): row 7, column 8. The ray's
        # direction (2, 20, 2) crosses the voxel's y-slab over sqrt(1 + 0.1^2 + 0.1^2).
        ((3, 2, 3), 0, (7, 8), math.sqrt(1.02)),
        # At angle pi the source is (0, 10, 0) and u = (-1, 0, 0): the same voxel lands on column 6 - 2.
        ((3, 2, 3), 1, (7, 4), math.sqrt(1.02)),
        # voxel (0, 0, 4) at (2, -2, -2), nearer the source: magnified 20 / 8 to (5, -5): row 0, column 11.
        ((0, 0, 4), 0, (0, 11), math.sqrt(1.125)),
    ]
    for index, view, pixel, value in cases:
        y = op.forward(single_voxel((5, 5, 5), index))[view]
        assert np.unravel_index(np.argmax(y), y.shape) == pixel
        assert y[pixel] == pytest.approx(value, rel=1e-12)


BAD = [
    (dict(cone(), DetectorRowCount=None), None, "DetectorRowCount"),
    ({k: v for k, v in cone().items() if k != "DetectorColCount"}, None, "DetectorColCount"),
    (dict(cone(), DetectorColCount=4.5), None, "DetectorColCount"),
    (dict(cone(), DetectorSpacingX="1.0"), None, "DetectorSpacingX"),
    (dict(cone(), DistanceOriginSource=-1.0), None, "DistanceOriginSource"),
    ({k: v for k, v in cone().items() if k != "DistanceOriginDetector"}, None, "DistanceOriginDetector"),
    (dict(parallel3d(), ProjectionAngles=[]), None, "ProjectionAngles"),
    (dict(as_vec(cone()), Vectors=np.zeros((9, 6))), None, r"Vectors.*\(views, 12\)"),
    (dict(as_vec(cone()), Vectors=[[0.0] * 12, [0.0] * 11]), None, "Vectors"),
    (dict(as_vec(parallel3d()), Vectors=np.full((2, 12), np.nan)), None, "Vectors"),
    ({k: v for k, v in cone().items() if k != "type"}, None, "'type'"),
    (cone(), {"GridRowCount": 6, "GridColCount": 8}, "GridSliceCount"),
    (dict(cone(), type="parallel"), None, "GridSliceCount"),
    (cone(), vol_geom(6, 8, 5, (-4, 4, -3, 3, -5, 5)), "cubic voxels"),
    (cone(), vol_geom(6, 8, 5, (-4, 4, -3, 3, "a", 2.5)), "WindowMinZ"),
    (cone(), dict(vol_geom(6, 8, 5), GridSliceCount=0), "GridSliceCount"),
    ([("type", "cone")], None, "proj_geom must be a dict"),
]


@pytest.mark.parametrize("proj,vol,message", BAD)
def test_bad_dicts_raise_value_error_naming_the_key(proj, vol, message):
    with pytest.raises(ValueError, match=message):
        pnpdist.geometry_from_astra(proj, vol if vol is not None else vol_geom(6, 8, 5))


def test_against_astra_conversions():
    astra = pytest.importorskip("astra")
    vol = astra.create_vol_geom(6, 8, 5, -5, 3, -2, 4, -1.5, 3.5)
    for proj in (astra.create_proj_geom("cone", 1.5, 2.0, 7, 9, ANGLES, 40.0, 25.0),
                 astra.create_proj_geom("parallel3d", 1.5, 2.0, 7, 9, ANGLES)):
        g = pnpdist.geometry_from_astra(proj, vol)
        vec = pnpdist.geometry_from_astra(astra.geom_2vec(proj), vol)
        assert np.allclose(vec.vectors, g.vectors, rtol=0, atol=1e-12)
        assert np.allclose(as_vec(proj)["Vectors"], astra.geom_2vec(proj)["Vectors"], rtol=0, atol=1e-12)
        # ASTRA's post-alignment shifts the detector by (0.5, -0.25) pixels along (u, v): pnpdist's offsets.
        shifted = pnpdist.geometry_from_astra(astra.geom_postalignment(proj, (0.5, -0.25)), vol)
        offsets = dict(detector_pixel_size=(2.0, 1.5), offset_u=0.5 * 1.5, offset_v=-0.25 * 2.0)
        if proj["type"] == "cone":
            native = pnpdist.cone_beam(ANGLES, (7, 9), 40.0, 25.0, (5, 6, 8), **offsets)
        else:
            native = pnpdist.parallel_beam_3d(ANGLES, (7, 9), (5, 6, 8), **offsets)
        centred = pnpdist.geometry_from_astra(astra.geom_postalignment(proj, (0.5, -0.25)),
                                              astra.create_vol_geom(6, 8, 5))
        assert np.allclose(centred.vectors, native.vectors, rtol=0, atol=1e-12)
        # The off-centre window (centre (-1, 1, 1)) moves the points (source, detector centre), not u and v.
        moved = native.vectors.copy()
        moved[:, 3:6] -= (-1, 1, 1)
        if proj["type"] == "cone":
            moved[:, 0:3] -= (-1, 1, 1)
        assert np.allclose(shifted.vectors, moved, rtol=0, atol=1e-12)


def test_against_astra_gpu_projector():
    astra = pytest.importorskip("astra")
    if not astra.use_cuda():
        pytest.skip("astra-toolbox's 3D projectors need a CUDA GPU")
    vol = astra.create_vol_geom(24, 32, 20, -14, 18, -12, 12, -10, 10)
    x = volume((20, 24, 32), seed=3).astype(np.float32)
    for proj in (astra.create_proj_geom("cone", 1.5, 1.5, 30, 40, ANGLES, 80.0, 40.0),
                 astra.create_proj_geom("parallel3d", 1.0, 1.0, 30, 40, ANGLES)):
        _, data = astra.create_sino3d_gpu(x, proj, vol)  # (detector rows, views, detector cols)
        ours = pnpdist.JosephProjector3D(pnpdist.geometry_from_astra(proj, vol)).forward(x)
        # ASTRA's GPU projector samples with hardware trilinear interpolation (9-bit weights): a bound, not a
        # measured figure (no GPU on the test machines).
        assert rel(np.swapaxes(ours, 0, 1), data) < 2e-2
