"""pnpdist.deepinv's geometries of DeepInv's own Tomography: the fan beam (deepinv_fan_geometry,
deepinv_fan_weights), circle=True (deepinv_circle_mask with Tomography(..., mask=...)) and the parallel beam's
rotation centre for every image width. Without DeepInv: the geometry's distances and directions, the mask, the
argument checks. With DeepInv (skipped where it cannot be imported): the sinograms and back projections of the
pnpdist operators against DeepInv's on smooth images, and a wrong convention (flipped angles, swapped distances,
pixel scale, detector direction, rotation centre, no fan weights, no mask) failing the same comparison; the
adjoint dot tests, A_adjoint_A and normalize through the masked physics."""

import math

import numpy as np
import pytest

import pnpdist
import pnpdist.deepinv as pdi


def fan_parameters(width):
    """A fan of DeepInv's parameters (cm) whose cells see the image up to 30 degrees off the central ray."""
    return dict(pixel_spacing=0.01, source_radius=0.01 * width, detector_radius=0.0075 * width,
                n_detector_pixels=int(1.8 * width), detector_spacing=0.012)


def smooth_image(width, corner=False):
    """Two Gaussians tapered to zero inside the inscribed circle (smooth, so that the two interpolations
    agree closely); corner=True adds a Gaussian in a corner, outside the circle."""
    r = (np.arange(width) - (width - 1) / 2) / ((width - 1) / 2)
    x, y = np.meshgrid(r, r)
    image = np.exp(-((x - 0.2) ** 2 + (y + 0.1) ** 2) / 0.08) + 0.5 * np.exp(-((x + 0.35) ** 2 + (y - 0.3) ** 2) / 0.03)
    image *= np.clip(1 - (x ** 2 + y ** 2) / 0.8, 0, None) ** 2
    if corner:
        image += np.exp(-((x - 0.85) ** 2 + (y - 0.85) ** 2) / 0.01)
    return image.astype(np.float32)


def relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def with_vectors(geometry, change):
    v = np.array(geometry.vectors)
    change(v)
    return pnpdist.Geometry2D.from_vectors(geometry.beam, v, geometry.detector_cols, geometry.image_shape)


# ---- Without DeepInv ------------------------------------------------------------------------------------

def test_fan_geometry_distances_and_directions():
    width = 20  # G = ceil(sqrt(2) 20) = 29, G - W odd: centre offset +1/2
    p = fan_parameters(width)
    g = pdi.deepinv_fan_geometry([0.0, 90.0, 30.0], width, p)
    assert g.beam == "fan" and g.sinogram_shape == (3, 36) and g.image_shape == (20, 20) and g.pixel_size == 1.0
    unit = 28 / (29 * 0.01)  # pixels per cm: (G - 1) / (G pixel_spacing)
    v = np.array(g.vectors)
    centre = np.array([0.5, 0.5])
    for t, row in zip(np.radians([0.0, 90.0, 30.0]), v):
        src, det, u = row[0:2] - centre, row[2:4] - centre, row[4:6]
        assert np.allclose(src, 0.2 * unit * np.array([-math.cos(t), math.sin(t)]), atol=1e-12)
        assert np.allclose(det, 0.15 * unit * np.array([math.cos(t), -math.sin(t)]), atol=1e-12)
        assert np.allclose(u, 0.012 * unit * np.array([math.sin(t), math.cos(t)]), atol=1e-12)
    # Odd G - W and odd W: the centre is half a pixel towards row and column 0; even G - W: none; circle: none.
    assert np.allclose(np.array(pdi.deepinv_fan_geometry([0.0], 21, fan_parameters(21)).vectors)[0, 2:4]
                       - 0.15 * 21 / 20 * 29 / (30 * 0.01) * np.array([1.0, 0.0]), -0.5, atol=1e-12)  # G = 30
    assert np.allclose(np.array(pdi.deepinv_fan_geometry([0.0], 22, fan_parameters(22)).vectors)[0, 3], 0.0)  # G = 32
    assert np.allclose(np.array(pdi.deepinv_fan_geometry([0.0], 20, p, circle=True).vectors)[0, 3], 0.0)
    # DeepInv's defaults: pixel_spacing 0.5 / W, radii 57.5, 258 cells 0.077 apart.
    d = np.array(pdi.deepinv_fan_geometry(4, width).vectors)
    unit = 28 / (29 * 0.5 / width)
    assert pdi.deepinv_fan_geometry(4, width).detector_cols == 258
    assert np.allclose(np.degrees(np.arctan2(d[:, 5], d[:, 4])), [90.0, 45.0, 0.0, -45.0])  # 4 angles over 180
    assert np.allclose(np.hypot(*(d[:, 0:2] - centre).T), 57.5 * unit)
    assert np.allclose(np.hypot(d[:, 4], d[:, 5]), 0.077 * unit)


def test_fan_weights_are_the_cosines_of_the_fan_angles():
    p = fan_parameters(20)
    w = pdi.deepinv_fan_weights(20, p)
    g = pdi.deepinv_fan_geometry([37.0], 20, p)
    src, det, u = np.array(g.vectors)[0].reshape(3, 2)
    cells = det + (np.arange(36) - 17.5)[:, None] * u
    rays = cells - src
    central = (det - src) / np.linalg.norm(det - src)
    assert w.shape == (36,) and w.dtype == np.float64
    assert np.allclose(w, rays @ central / np.linalg.norm(rays, axis=1), atol=1e-14)
    assert np.allclose(w, w[::-1]) and 0.5 < w.min() < w.max() < 1.0


def test_circle_mask_keeps_the_pixel_centres_in_the_inscribed_circle():
    for width in (2, 7, 16, 33):
        m = pdi.deepinv_circle_mask(width)
        assert m.dtype == np.float32 and m.shape == (width, width) and set(np.unique(m)) <= {0.0, 1.0}
        r = np.arange(width) - (width - 1) / 2
        d2 = (r[:, None] ** 2 + r[None, :] ** 2) / ((width - 1) / 2) ** 2
        clear = np.abs(d2 - 1) > 1e-6  # away from the boundary float32 cannot decide otherwise
        assert np.array_equal(m[clear], (d2[clear] <= 1).astype(np.float32))
        assert np.array_equal(m, m.T) and np.array_equal(m, m[::-1])
    assert pdi.deepinv_circle_mask(5, dtype="float64").dtype == np.float64


def test_parallel_geometry_with_circle():
    g = pdi.deepinv_parallel_geometry([0.0, 90.0], 7, circle=True)
    assert g.sinogram_shape == (2, 7)
    # At angle 0 rays along +y, the detector along +x (bins increase with the column), centred.
    assert np.allclose(np.array(g.vectors), [[0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, -1]], atol=1e-15)
    assert pdi.deepinv_parallel_geometry(3, 7, circle=True).views == 3


def test_bad_arguments_are_refused():
    for bad in (1, 0, 2.5, True, "8"):
        with pytest.raises(ValueError, match="img_width must be an int >= 2"):
            pdi.deepinv_fan_geometry([0.0], bad)
        with pytest.raises(ValueError, match="img_width must be an int >= 2"):
            pdi.deepinv_parallel_geometry([0.0], bad)
        with pytest.raises(ValueError, match="img_width must be an int >= 2"):
            pdi.deepinv_circle_mask(bad)
    with pytest.raises(ValueError, match="non-empty 1D"):
        pdi.deepinv_fan_geometry([], 8)
    with pytest.raises(ValueError, match="non-empty 1D"):
        pdi.deepinv_parallel_geometry([[0.0, 1.0]], 8)
    with pytest.raises(ValueError, match="finite"):
        pdi.deepinv_fan_geometry([0.0, float("nan")], 8)
    with pytest.raises(ValueError, match="number of angles must be positive"):
        pdi.deepinv_parallel_geometry(0, 8)
    with pytest.raises(TypeError, match="bool"):
        pdi.deepinv_fan_geometry(True, 8)
    with pytest.raises(ValueError, match=r"unknown fan_parameters \['source_radus'\]"):
        pdi.deepinv_fan_geometry([0.0], 8, {"source_radus": 3.0})
    with pytest.raises(TypeError, match="fan_parameters must be a dict"):
        pdi.deepinv_fan_weights(8, [("source_radius", 3.0)])
    for key, value in (("source_radius", -1.0), ("detector_radius", 0.0), ("pixel_spacing", float("inf")),
                       ("detector_spacing", "1")):
        with pytest.raises(ValueError, match=f"fan_parameters\\['{key}'\\] must be a positive finite number"):
            pdi.deepinv_fan_geometry([0.0], 8, {key: value})
    for value in (0, 10.0, True):
        with pytest.raises(ValueError, match="n_detector_pixels'\\] must be a positive int"):
            pdi.deepinv_fan_weights(8, {"n_detector_pixels": value})
    # A source inside the image is pnpdist's refusal, naming it.
    with pytest.raises(pnpdist.InvalidArgument, match="source"):
        pdi.deepinv_fan_geometry([0.0], 8, {"pixel_spacing": 1.0, "source_radius": 2.0})


# ---- With DeepInv ---------------------------------------------------------------------------------------


def deepinv_sinogram(dinv, image, angles, circle, fan=None):
    """DeepInv's Tomography of one image in pnpdist's (views, detectors) layout."""
    import torch
    own = dinv.physics.Tomography(torch.tensor(angles, dtype=torch.float32), image.shape[0], circle=circle,
                                  fan_beam=fan is not None, fan_parameters=None if fan is None else dict(fan),
                                  normalize=False)
    y = own.A(torch.from_numpy(image)[None, None])
    return pdi.from_deepinv_sinogram(y[0, 0]).numpy(), own


FAN_TOLERANCE = 2.5e-3  # measured 6.5e-4 to 1.2e-3 (below); each wrong convention gives 6.7e-3 or more


@pytest.mark.parametrize("width,circle", [(64, False), (63, False), (48, False), (64, True), (63, True)])
def test_fan_sinogram_equals_deepinv(dinv, width, circle):
    # G - W odd with W even (64) and odd (63), G - W even (48), and circle=True (G = W).
    import torch
    angles = np.linspace(0, 360, 45, endpoint=False)
    p = fan_parameters(width)
    image = smooth_image(width, corner=circle)
    expected, own = deepinv_sinogram(dinv, image, angles, circle, fan=p)
    mask = pdi.deepinv_circle_mask(width) if circle else None
    weights = pdi.deepinv_fan_weights(width, p, circle)
    g = pdi.deepinv_fan_geometry(angles, width, p, circle)

    def ours(geometry, w=weights, m=mask):
        return pnpdist.JosephProjector2D(geometry).forward(image if m is None else image * m) * w

    got = pdi.Tomography(g, mask=mask).A(torch.from_numpy(image)[None, None])[0, 0].numpy() * weights
    assert got.shape == expected.shape == (45, int(1.8 * width))
    # Bilinear rotation against Joseph: interpolation differences, measured 6.5e-4 (64, 63), 1.2e-3 (48).
    assert relative(got, expected) < FAN_TOLERANCE
    assert relative(ours(g), expected) < FAN_TOLERANCE
    swapped = dict(p, source_radius=p["detector_radius"], detector_radius=p["source_radius"])
    grid = width if circle else math.ceil(math.sqrt(2) * width)
    wrong = {
        "angles flipped": ours(pdi.deepinv_fan_geometry(-angles, width, p, circle)),
        "distances swapped": ours(pdi.deepinv_fan_geometry(angles, width, swapped, circle),
                                  pdi.deepinv_fan_weights(width, swapped, circle)),
        "pixel G / (G - 1) larger": ours(with_vectors(g, lambda v: v.__imul__(grid / (grid - 1)))),
        "detector reversed": ours(with_vectors(g, lambda v: v[:, 4:].__imul__(-1.0))),
        "no fan weights": ours(g, 1.0),
    }
    if circle:
        wrong["no mask"] = ours(g, m=None)
    if (grid - width) % 2:
        centre = pdi._deepinv_frame(width, circle)[1]
        wrong["image centre"] = ours(with_vectors(g, lambda v: v[:, :4].__isub__(centre)))
    for name, y in wrong.items():
        assert relative(y, expected) > 2.5 * FAN_TOLERANCE, name
    # DeepInv's back projection (its autograd adjoint) is this physics' A_adjoint of the weighted sinogram.
    sino = torch.from_numpy(expected)
    back = own.A_adjoint(pdi.to_deepinv_sinogram(sino)[None, None].contiguous())[0, 0].numpy()
    ours_back = pdi.Tomography(g, mask=mask).A_adjoint((sino * torch.from_numpy(weights).float())[None, None])
    assert relative(ours_back[0, 0].numpy(), back) < 2.5e-2  # measured 0.9e-2 to 1.1e-2
    flipped = pdi.Tomography(pdi.deepinv_fan_geometry(-angles, width, p, circle), mask=mask)
    assert relative(flipped.A_adjoint((sino * torch.from_numpy(weights).float())[None, None])[0, 0].numpy(),
                    back) > 0.2


@pytest.mark.parametrize("width", [62, 63, 64, 65])
def test_parallel_sinogram_equals_deepinv(dinv, width):
    # circle=False for both parities of W and of G - W (the rotation centre), and circle=True with the mask.
    import torch
    angles = np.linspace(0, 180, 30, endpoint=False)
    for circle in (False, True):
        image = smooth_image(width, corner=circle)
        expected, _ = deepinv_sinogram(dinv, image, angles, circle)
        g = pdi.deepinv_parallel_geometry(angles, width, circle=circle)
        mask = pdi.deepinv_circle_mask(width) if circle else None
        got = pdi.Tomography(g, mask=mask).A(torch.from_numpy(image)[None, None])[0, 0].numpy()
        assert got.shape == expected.shape == (30, width if circle else math.ceil(math.sqrt(2) * width))
        assert relative(got, expected) < 2e-3  # measured 6.4e-4 to 7.1e-4
        if circle:
            assert relative(pnpdist.JosephProjector2D(g).forward(image), expected) > 0.1  # no mask
        else:
            centre = pdi._deepinv_frame(width, False)[1]
            if centre:
                off = pnpdist.JosephProjector2D(with_vectors(g, lambda v: v[:, 2:4].__isub__(centre))).forward(image)
                assert relative(off, expected) > 1e-2
        flipped = pnpdist.JosephProjector2D(pdi.deepinv_parallel_geometry(-angles, width, circle)).forward(
            image if mask is None else image * mask)
        assert relative(flipped, expected) > 0.1


def test_circle_mask_equals_deepinv(dinv):
    # At angle 0 DeepInv samples every pixel at its own position: a unit image projects to zero exactly where
    # DeepInv's mask removes the pixel.
    import torch
    for width in (16, 17, 33, 40):
        own = dinv.physics.Tomography(torch.tensor([0.0]), width, circle=True, normalize=False)
        units = torch.eye(width * width).reshape(width * width, 1, width, width)
        kept = (own.A(units).abs().sum(dim=(1, 2, 3)) > 0).reshape(width, width).numpy()
        assert np.array_equal(kept.astype(np.float32), pdi.deepinv_circle_mask(width))


def physics_cases():
    p = fan_parameters(12)
    mask = pdi.deepinv_circle_mask(12)
    return {
        "fan": lambda: pdi.Tomography(pdi.deepinv_fan_geometry(10, 12, p), dtype="float64"),
        "fan_circle": lambda: pdi.Tomography(pdi.deepinv_fan_geometry(10, 12, p, circle=True), dtype="float64",
                                             mask=mask),
        "parallel_circle": lambda: pdi.Tomography(pdi.deepinv_parallel_geometry(10, 12, circle=True),
                                                  dtype="float64", mask=mask),
        "random_weights": lambda: pdi.Tomography(pdi.deepinv_parallel_geometry(10, 12), dtype="float64",
                                                 mask=np.random.default_rng(5).random((12, 12))),
    }


@pytest.mark.parametrize("name", list(physics_cases()))
def test_adjoint_and_normal_through_the_physics(dinv, name):
    import torch
    physics = physics_cases()[name]()
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    y = physics.A(x)
    r = torch.randn_like(y)
    lhs, rhs = float((y * r).sum()), float((x * physics.A_adjoint(r)).sum())
    assert abs(lhs - rhs) <= 1e-12 * float(y.norm() * r.norm())
    assert abs(float(physics.adjointness_test(x))) < 1e-10
    expected = physics.A_adjoint(physics.A(x))
    assert float((physics.A_adjoint_A(x) - expected).abs().max()) <= 1e-12 * float(expected.abs().max())
    if physics.mask is not None:
        m = physics.mask
        unmasked = pdi.Tomography(physics.op)
        assert torch.equal(y, unmasked.A(x * m)) and torch.equal(physics.A_adjoint(r), unmasked.A_adjoint(r) * m)
        assert float((y - unmasked.A(x)).abs().max()) > 1e-3 * float(y.abs().max())
    xg = torch.randn(1, 1, 12, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(physics.A, (xg,))
    assert torch.autograd.gradcheck(physics.A_adjoint_A, (xg,))


def test_masked_normalize_and_fbp(dinv):
    import torch
    mask = pdi.deepinv_circle_mask(32)
    g = pdi.deepinv_parallel_geometry(60, 32, circle=True)
    physics = pdi.Tomography(g, normalize=True, mask=mask)
    unmasked = pdi.Tomography(g, normalize=True)
    assert physics.operator_norm < unmasked.operator_norm  # the mask removes the corners
    assert abs(float(physics.compute_sqnorm(torch.randn(1, 1, 32, 32), verbose=False)) - 1.0) < 1e-3
    x = torch.from_numpy(smooth_image(32))[None, None]
    plain = pdi.Tomography(g)
    assert torch.allclose(physics.A(x) * physics.operator_norm, plain.A(x), rtol=1e-5, atol=1e-5)
    # fbp estimates x whether or not A is normalized.
    assert torch.allclose(unmasked.fbp(unmasked.A(x)), plain.fbp(plain.A(x)), rtol=1e-4, atol=1e-5)
    recon = physics.fbp(physics.A(x))
    assert torch.equal(recon, recon * physics.mask)
    assert np.allclose(recon[0, 0].numpy(), pnpdist.fbp(g, plain.A(x)[0, 0].numpy()) * mask, atol=1e-5)


def test_mask_arguments_are_refused(dinv):
    import torch
    g = pdi.deepinv_parallel_geometry(10, 12, circle=True)
    with pytest.raises(ValueError, match=r"mask must have the image's shape \(12, 12\), got \(12, 11\)"):
        pdi.Tomography(g, mask=np.ones((12, 11)))
    with pytest.raises(ValueError, match="mask must be finite"):
        pdi.Tomography(g, mask=np.full((12, 12), np.nan))
    with pytest.raises(TypeError, match="numeric array"):
        pdi.Tomography(g, mask=np.full((12, 12), "a"))
    physics = pdi.Tomography(g, mask=torch.ones(12, 12, dtype=torch.bool))
    assert physics.mask.dtype == torch.float32
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, 12, 12\), got \(1, 12\)"):
        physics.A(torch.zeros(1, 12))  # refused before the mask could broadcast
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, 12, 12\)"):
        physics.A_adjoint_A(torch.zeros(12, 12))
