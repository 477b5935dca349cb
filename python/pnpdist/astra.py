"""2D geometries from ASTRA Toolbox dicts, with ASTRA's conventions.

    geometry = pnpdist.geometry_from_astra(proj_geom, vol_geom)   # dicts of astra.create_proj_geom / _vol_geom
    A = pnpdist.JosephProjector2D(geometry)

Guarantee: A applied to an image array in ASTRA's layout (row 0 at the top, +y; ASTRA's window and detector
conventions) gives the sinogram ASTRA computes for that array, up to the two projectors' discretizations (the
same Joseph weights as ASTRA's CPU 'linear' projector, up to float rounding). pnpdist's own image rows run from
-y to +y, so the geometry is mirrored in y (and shifted to centre ASTRA's window): no array is flipped.

Supported: proj_geom types 'parallel', 'fanflat', 'parallel_vec', 'fanflat_vec'; vol_geom with square pixels
(any window position). Needs no ASTRA installation: the dicts are read as plain mappings.
"""

import numpy as np

from ._pnpdist import Geometry2D

__all__ = ["geometry_from_astra"]


def _vectors(proj_geom):
    """ASTRA's per-view vectors (views, 6) and the beam ('parallel' or 'fan') of a proj_geom dict."""
    kind = proj_geom.get("type")
    if kind in ("parallel", "fanflat"):
        angles = np.asarray(proj_geom["ProjectionAngles"], dtype=np.float64).ravel()
        width = float(proj_geom["DetectorWidth"])
        s, c, zero = np.sin(angles), np.cos(angles), np.zeros_like(angles)
        if kind == "parallel":
            return np.stack([s, -c, zero, zero, width * c, width * s], axis=1), "parallel"
        source, detector = float(proj_geom["DistanceOriginSource"]), float(proj_geom["DistanceOriginDetector"])
        return np.stack([s * source, -c * source, -s * detector, c * detector, width * c, width * s], axis=1), "fan"
    if kind in ("parallel_vec", "fanflat_vec"):
        vectors = np.array(proj_geom["Vectors"], dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[1] != 6:
            raise ValueError(f"proj_geom['Vectors'] must have shape (views, 6), got {vectors.shape}")
        return vectors, "parallel" if kind == "parallel_vec" else "fan"
    raise ValueError(f"proj_geom type must be 'parallel', 'fanflat', 'parallel_vec' or 'fanflat_vec', got {kind!r}"
                     " (3D geometries are not bound yet)")


def geometry_from_astra(proj_geom, vol_geom):
    """The Geometry2D of ASTRA's proj_geom and vol_geom dicts (see the module comment)."""
    rows, cols = int(vol_geom["GridRowCount"]), int(vol_geom["GridColCount"])
    window = vol_geom.get("option", {})
    min_x, max_x = float(window.get("WindowMinX", -cols / 2)), float(window.get("WindowMaxX", cols / 2))
    min_y, max_y = float(window.get("WindowMinY", -rows / 2)), float(window.get("WindowMaxY", rows / 2))
    pixel_x, pixel_y = (max_x - min_x) / cols, (max_y - min_y) / rows
    if not abs(pixel_x - pixel_y) <= 1e-9 * abs(pixel_x):
        raise ValueError(f"vol_geom has pixels of {pixel_x} x {pixel_y} (x by y); only square pixels are supported")
    vectors, beam = _vectors(proj_geom)
    centre_x, centre_y = 0.5 * (min_x + max_x), 0.5 * (min_y + max_y)
    mirrored = vectors.copy()
    # Points (the source of fan beams, the detector centre) are moved to the window's frame; every y is mirrored.
    if beam == "fan":
        mirrored[:, 0] -= centre_x
        mirrored[:, 1] -= centre_y
    mirrored[:, 2] -= centre_x
    mirrored[:, 3] -= centre_y
    mirrored[:, 1::2] *= -1
    return Geometry2D.from_vectors(beam, np.ascontiguousarray(mirrored), int(proj_geom["DetectorCount"]),
                                   (rows, cols), pixel_x)
