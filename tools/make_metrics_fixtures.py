#!/usr/bin/env python3
"""Writes the PSNR/SSIM reference values of tests/metrics/test_metrics.cpp into tests/fixtures/metrics.

Run with Debian's python3 (python3-skimage, python3-numpy):  /usr/bin/python3 tools/make_metrics_fixtures.py
For each case it stores the reference image `<case>_reference.npy`, the test image `<case>_image.npy`
(float32) and `<case>_values.npy` = [data_range, PSNR, SSIM] (float64) as skimage computes them:
peak_signal_noise_ratio(reference, image, data_range) and structural_similarity(reference, image,
data_range, gaussian_weights=True, sigma=1.5, use_sample_covariance=False) (Wang et al.), per channel mean
for colour (channel_axis=0), mean over slices for volumes.
"""
import os

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "metrics")


def ssim2d(reference, image, data_range):
    return structural_similarity(reference.astype(np.float64), image.astype(np.float64), data_range=data_range,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def smooth_image(rng, shape):
    """A smooth random image in [0, 1] (sum of a few random cosines) so that SSIM is far from 0 and 1."""
    grids = np.meshgrid(*[np.arange(n) for n in shape[-2:]], indexing="ij")
    lead = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    planes = []
    for _ in range(lead):
        img = np.zeros(shape[-2:])
        for _ in range(4):
            fy, fx = rng.uniform(0.02, 0.25, 2)
            img += rng.uniform(0.3, 1.0) * np.cos(2 * np.pi * (fy * grids[0] + fx * grids[1]) + rng.uniform(0, 6.3))
        img = (img - img.min()) / (img.max() - img.min())
        planes.append(img)
    return np.stack(planes).reshape(shape)


def write_case(name, reference, image, data_range):
    reference = reference.astype(np.float32)
    image = image.astype(np.float32)
    psnr = peak_signal_noise_ratio(reference.astype(np.float64), image.astype(np.float64), data_range=data_range)
    if reference.ndim == 2:
        ssim = ssim2d(reference, image, data_range)
    elif name.startswith("colour"):
        ssim = structural_similarity(reference.astype(np.float64), image.astype(np.float64), data_range=data_range,
                                     gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=0)
    else:
        ssim = float(np.mean([ssim2d(reference[k], image[k], data_range) for k in range(reference.shape[0])]))
    np.save(os.path.join(OUT, name + "_reference.npy"), reference)
    np.save(os.path.join(OUT, name + "_image.npy"), image)
    np.save(os.path.join(OUT, name + "_values.npy"), np.array([data_range, psnr, ssim], dtype=np.float64))
    print(f"{name}: shape {reference.shape} data_range {data_range} PSNR {psnr:.6f} SSIM {ssim:.6f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261122)
    ref = smooth_image(rng, (37, 41))
    write_case("gray", ref, ref + rng.normal(0, 0.08, ref.shape), 1.0)
    ref = smooth_image(rng, (3, 24, 30))
    write_case("colour", ref, np.clip(ref + rng.normal(0, 0.1, ref.shape), 0, 1), 1.0)
    ref = smooth_image(rng, (5, 16, 20)) * 2.0
    write_case("volume", ref, 0.9 * ref + rng.normal(0, 0.15, ref.shape), 2.0)


if __name__ == "__main__":
    main()
