"""Images the dashboard derives from the 8-bit PNGs the examples write (result.json holds no float images):
the error map |reconstruction - truth| in colour and enlarged centre crops. The examples map [0, data range]
linearly to 0..255 and clip (examples/pnp_example_support.hpp, save_png), so an error read from the PNGs is in
steps of 1/255 of the data range and misses what was clipped. Needs numpy and Pillow (Debian: python3-numpy,
python3-pil), imported when first used.
"""

from __future__ import annotations

import base64
import io
from typing import Any

# The error maps' colour scale (matplotlib's "inferno" at nine evenly spaced points: black is no error).
COLOUR_SCALE = ["#000004", "#1f0c48", "#550f6d", "#88226a", "#ba3655", "#e35933", "#f98e09", "#f9cb35", "#fcffa4"]
ZOOM = 4          # crops are enlarged this many times, nearest neighbour
CROP_SIDE = 64    # pixels of the centre crop (at most half the image's smaller side)
ERROR_PERCENTILE = 99.0  # the colour scale ends at this percentile of the errors of all runs; larger ones saturate


class ImagingUnavailable(Exception):
    pass


def _modules() -> tuple[Any, Any]:
    try:
        import numpy
        from PIL import Image
    except ImportError as e:
        raise ImagingUnavailable(f"the dashboard's error maps and crops need numpy and Pillow ({e}): install "
                                 "Debian's python3-numpy and python3-pil (scripts/install_dependencies.sh)") from None
    return numpy, Image


def check() -> None:
    """Raises ImagingUnavailable when numpy or Pillow is missing."""
    _modules()


def _read(path: str) -> Any:
    """The PNG as floats in [0, 1] of the data range: height x width, or height x width x 3 for colour."""
    np, Image = _modules()
    with Image.open(path) as image:
        image = image.convert("L" if image.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
        return np.asarray(image, dtype=np.float64) / 255.0


def error_map(truth_path: str, reconstruction_path: str) -> Any:
    """|reconstruction - truth| per pixel (the mean over the channels of a colour image), in units of the data
    range; None when the two images differ in size."""
    np, _ = _modules()
    truth, reconstruction = _read(truth_path), _read(reconstruction_path)
    if truth.shape != reconstruction.shape:
        return None
    error = np.abs(reconstruction - truth)
    return error.mean(axis=2) if error.ndim == 3 else error


def scale_top(errors: list[Any]) -> float:
    """Where the shared colour scale ends: the ERROR_PERCENTILE of all errors (at least one grey level)."""
    np, _ = _modules()
    values = [e.ravel() for e in errors if e is not None and e.size]
    top = float(np.percentile(np.concatenate(values), ERROR_PERCENTILE)) if values else 0.0
    return max(top, 1.0 / 255.0)


def _lookup_table() -> Any:
    np, _ = _modules()
    anchors = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in COLOUR_SCALE], dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(COLOUR_SCALE))
    steps = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(steps, positions, anchors[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def error_png(error: Any, top: float) -> bytes:
    """The error map in COLOUR_SCALE from 0 to `top` (larger errors saturate) as an RGB PNG."""
    np, Image = _modules()
    index = np.clip(np.rint(error / top * 255.0), 0, 255).astype(np.uint8)
    return _png(Image.fromarray(_lookup_table()[index]))


def crop_png(path: str) -> bytes:
    """The centre CROP_SIDE x CROP_SIDE crop of a PNG (half the smaller side for small images), enlarged ZOOM
    times by nearest neighbour."""
    _, Image = _modules()
    with Image.open(path) as image:
        width, height = image.size
        side = max(1, min(CROP_SIDE, min(width, height) // 2))
        left, top = (width - side) // 2, (height - side) // 2
        crop = image.crop((left, top, left + side, top + side))
        return _png(crop.resize((side * ZOOM, side * ZOOM), Image.NEAREST))


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
