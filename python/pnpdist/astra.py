"""2D and 3D geometries from ASTRA Toolbox dicts, with ASTRA's conventions.

    geometry = pnpdist.geometry_from_astra(proj_geom, vol_geom)   # dicts of astra.create_proj_geom / _vol_geom
    A = pnpdist.JosephProjector2D(geometry)                      # or JosephProjector3D for the 3D types

2D ('parallel', 'fanflat', 'parallel_vec', 'fanflat_vec'; vol_geom of astra.create_vol_geom(rows, cols, ...)):
A applied to an image array in ASTRA's layout (row 0 at the top, +y) gives the sinogram ASTRA computes for
that array, up to the two projectors' discretizations (the same Joseph weights as ASTRA's CPU 'linear'
projector, up to float rounding). pnpdist's own image rows run from -y to +y, so the geometry is mirrored in y
(and shifted to centre ASTRA's window): no array is flipped. Square pixels, any window position.

3D ('parallel3d', 'cone', 'parallel3d_vec', 'cone_vec'; vol_geom of astra.create_vol_geom(rows, cols, slices,
...)): ASTRA's 3D volumes are (slices, rows, cols) = (z, y, x) with every index growing with its coordinate,
as pnpdist's, so only the window's centre is moved to the origin. The 12 numbers of a view are (ray direction
or source, detector centre d, u: from detector pixel (0, 0) to (0, 1), v: from (0, 0) to (1, 0));
'parallel3d' and 'cone' are turned into them as astra.geom_2vec does (DetectorSpacingX along u, Y along v).
ASTRA's 3D projection data are (detector rows, views, detector cols); pnpdist's are (views, detector rows,
detector cols): np.ascontiguousarray(np.swapaxes(data, 0, 1)) converts either way. Cubic voxels, any window.

Needs no ASTRA installation: the dicts are read as plain mappings. A missing key, a value of the wrong type or
shape, or a volume of the other dimension raises ValueError naming the key.
"""

import numbers
from collections.abc import Mapping

import numpy as np

from ._pnpdist import Geometry2D, Geometry3D

__all__ = ["geometry_from_astra"]

_TYPES_2D = ("parallel", "fanflat", "parallel_vec", "fanflat_vec")
_TYPES_3D = ("parallel3d", "cone", "parallel3d_vec", "cone_vec")
_REQUIRED = object()


def _value(mapping, key, name):
    if key not in mapping:
        raise ValueError(f"{name} has no key {key!r}")
    return mapping[key]


def _count(mapping, key, name):
    """A positive integer (ASTRA's counts)."""
    value = _value(mapping, key, name)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}[{key!r}] must be a positive integer, got {value!r}")
    return int(value)


def _number(mapping, key, name, default=_REQUIRED, positive=False):
    """A finite real number (> 0 when positive); the key may be missing when a default is given."""
    value = _value(mapping, key, name) if default is _REQUIRED else mapping.get(key, default)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}[{key!r}] must be a finite number, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name}[{key!r}] must be > 0, got {value!r}")
    return float(value)


def _array(mapping, key, name, ndim):
    """A non-empty finite float64 array of ndim dimensions."""
    value = _value(mapping, key, name)
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}[{key!r}] must be an array of numbers ({error})") from None
    if array.ndim != ndim or array.size == 0:
        what = "(views,)" if ndim == 1 else "(views, columns)"
        raise ValueError(f"{name}[{key!r}] must be a non-empty array of shape {what}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}[{key!r}] holds a non-finite number")
    return array


def _vectors(proj_geom, kind):
    """ASTRA's per-view vectors (views, 6 or 12) of a proj_geom dict, as astra.geom_2vec converts them."""
    if kind.endswith("_vec"):
        vectors = _array(proj_geom, "Vectors", "proj_geom", 2)
        columns = 12 if kind in _TYPES_3D else 6
        if vectors.shape[1] != columns:
            raise ValueError(f"proj_geom['Vectors'] of type {kind!r} must have shape (views, {columns}), "
                             f"got {vectors.shape}")
        return vectors
    angles = _array(proj_geom, "ProjectionAngles", "proj_geom", 1)
    s, c, zero = np.sin(angles), np.cos(angles), np.zeros_like(angles)
    if kind in _TYPES_2D:
        width = _number(proj_geom, "DetectorWidth", "proj_geom", positive=True)
        u = [width * c, width * s]
        if kind == "parallel":
            return np.stack([s, -c, zero, zero, *u], axis=1)
        source = _number(proj_geom, "DistanceOriginSource", "proj_geom", positive=True)
        detector = _number(proj_geom, "DistanceOriginDetector", "proj_geom")
        return np.stack([s * source, -c * source, -s * detector, c * detector, *u], axis=1)
    spacing_x = _number(proj_geom, "DetectorSpacingX", "proj_geom", positive=True)
    spacing_y = _number(proj_geom, "DetectorSpacingY", "proj_geom", positive=True)
    u_v = [spacing_x * c, spacing_x * s, zero, zero, zero, np.full_like(angles, spacing_y)]
    if kind == "parallel3d":
        return np.stack([s, -c, zero, zero, zero, zero, *u_v], axis=1)
    source = _number(proj_geom, "DistanceOriginSource", "proj_geom", positive=True)
    detector = _number(proj_geom, "DistanceOriginDetector", "proj_geom")
    return np.stack([s * source, -c * source, zero, -s * detector, c * detector, zero, *u_v], axis=1)


def _window(vol_geom, axes):
    """The volume's counts, its window's centre and its (equal) voxel side along axes, e.g. ('X', 'Col')."""
    window = vol_geom.get("option", {})
    if not isinstance(window, Mapping):
        raise ValueError(f"vol_geom['option'] must be a dict, got {type(window).__name__}")
    counts, centre, sides = [], [], []
    for axis, count_key in axes:
        count = _count(vol_geom, f"Grid{count_key}Count", "vol_geom")
        low = _number(window, f"WindowMin{axis}", "vol_geom['option']", default=-count / 2)
        high = _number(window, f"WindowMax{axis}", "vol_geom['option']", default=count / 2)
        if not high > low:
            raise ValueError(f"vol_geom['option'] has WindowMax{axis} = {high} <= WindowMin{axis} = {low}")
        counts.append(count)
        centre.append(0.5 * (low + high))
        sides.append((high - low) / count)
    if not all(abs(side - sides[0]) <= 1e-9 * sides[0] for side in sides):
        sizes = " x ".join(f"{side}" for side in sides)
        voxels = "pixels" if len(axes) == 2 else "voxels"
        raise ValueError(f"vol_geom has {voxels} of {sizes} ({', '.join(a for a, _ in axes)}); only "
                         f"{'square pixels' if len(axes) == 2 else 'cubic voxels'} are supported")
    return counts, np.array(centre), sides[0]


def geometry_from_astra(proj_geom, vol_geom):
    """The Geometry2D or Geometry3D of ASTRA's proj_geom and vol_geom dicts (see the module comment)."""
    for name, value in (("proj_geom", proj_geom), ("vol_geom", vol_geom)):
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a dict, got {type(value).__name__}")
    kind = _value(proj_geom, "type", "proj_geom")
    if kind not in _TYPES_2D + _TYPES_3D:
        raise ValueError(f"proj_geom type must be one of {', '.join(_TYPES_2D + _TYPES_3D)}, got {kind!r}")
    divergent = kind in ("fanflat", "fanflat_vec", "cone", "cone_vec")
    if kind in _TYPES_2D:
        if "GridSliceCount" in vol_geom:
            raise ValueError(f"vol_geom has 'GridSliceCount' (a 3D volume) but proj_geom type {kind!r} is 2D")
        (cols, rows), (centre_x, centre_y), pixel = _window(vol_geom, (("X", "Col"), ("Y", "Row")))
        detector_cols = _count(proj_geom, "DetectorCount", "proj_geom")
        vectors = _vectors(proj_geom, kind)
        # Points (the source of fan beams, the detector centre) are moved to the window's frame; every y is mirrored.
        if divergent:
            vectors[:, 0:2] -= (centre_x, centre_y)
        vectors[:, 2:4] -= (centre_x, centre_y)
        vectors[:, 1::2] *= -1
        return Geometry2D.from_vectors("fan" if divergent else "parallel", np.ascontiguousarray(vectors),
                                       detector_cols, (rows, cols), pixel)
    if "GridSliceCount" not in vol_geom:
        raise ValueError(f"vol_geom has no key 'GridSliceCount' (proj_geom type {kind!r} needs a 3D volume)")
    (cols, rows, slices), centre, voxel = _window(vol_geom, (("X", "Col"), ("Y", "Row"), ("Z", "Slice")))
    detector_shape = (_count(proj_geom, "DetectorRowCount", "proj_geom"),
                      _count(proj_geom, "DetectorColCount", "proj_geom"))
    vectors = _vectors(proj_geom, kind)
    # Points (the cone's source, the detector centre) are moved to the window's frame; no axis is mirrored.
    if divergent:
        vectors[:, 0:3] -= centre
    vectors[:, 3:6] -= centre
    return Geometry3D.from_vectors("cone" if divergent else "parallel", np.ascontiguousarray(vectors),
                                   detector_shape, (slices, rows, cols), voxel)
