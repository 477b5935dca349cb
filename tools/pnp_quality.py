#!/usr/bin/env python3
"""The reconstruction-quality benchmark: PnP-DRUNet (each algorithm) against the classical baselines on the
three benchmark problems at CPU sizes, with parameters chosen on validation images and numbers reported on
test images that were used neither to train the denoiser nor to choose parameters.

    python3 tools/pnp_quality.py prepare --work DIR          the validation and test images (from Debian packages)
    python3 tools/pnp_quality.py tune --work DIR [--problem P] grid search on the validation images only;
                                                              writes DIR/tuned.json (the chosen parameters)
    python3 tools/pnp_quality.py table --work DIR [--params F] runs every test image; writes DIR/quality.md and
                                                              DIR/quality.json
    python3 tools/pnp_quality.py stability --work DIR          the fixed-sigma PnP-PGD of the table on the 2D test
                                                              images: convergence and checkerboard; DIR/stability.md

`table` reads the parameters from --params (default configs/quality_parameters.json, the committed result of
`tune`). Every run is one call of the example programs (build/release/examples/<example>) with --baselines 1,
so the classical baselines (FBP/FDK, SIRT/CGLS stopped by the discrepancy principle, PnP-TV; Tikhonov/Wiener
for deblurring) come from the same measurements. Runs are cached in DIR/runs/<key>/result.json, so an
interrupted `tune` or `table` continues where it stopped.

Images (`prepare`): validation = photographs of the DRUNet validation split (tools/train_drunet.py: held out
from training by the hash of their name), a random-ellipse phantom (2D) and walnut phantoms of other seeds
(3D); test = the examples' built-in data (Shepp-Logan, the Dragonfly photograph, the walnut phantom of seed
0) and images of the skimage test set (never trained on). The Dragonfly photograph is a DRUNet training image:
its row is marked as such.
"""
import argparse
import functools
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PARAMS = os.path.join(ROOT, 'configs', 'quality_parameters.json')

# The DRUNet validation split (tools/drunet_training.py is_validation) as files of the wallpaper packages.
VALIDATION_PHOTOS = {
    'kite': '/usr/share/wallpapers/Kite/contents/images/2560x1600.jpg',
    'after_the_rain': '/usr/share/lxqt/wallpapers/after-the-rain.jpg',
    'cold_ripple': '/usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg',
}
SKIMAGE_TEST = ('camera', 'astronaut', 'coffee')

# problem -> example, fixed arguments, validation images, test images. An image None is the built-in one.
PROBLEMS = {
    'tomography_2d': {
        'example': 'tomography_2d',
        'args': ['--size', '256', '--angles', '100', '--operators', '8', '--noise', '0.01'],
        'validation': ['kite', 'after_the_rain', 'ellipses'],
        'test': ['shepp_logan', 'camera'],
        'builtin': 'shepp_logan',
    },
    'highres_deblur': {
        'example': 'highres_deblur',
        'args': ['--size', '512', '--operators', '8', '--noise', '0.1', '--data-model', 'clipped'],
        'validation': ['kite', 'cold_ripple'],
        'test': ['dragonfly', 'astronaut', 'coffee'],
        'builtin': 'dragonfly',
        'trained_on': ['dragonfly'],
    },
    'tomography_3d': {
        'example': 'tomography_3d',
        'args': ['--size', '64', '--projections', '50', '--operators', '2', '--noise', '0.01',
                 '--patch-size', '0,0,0', '--slice-axes', 'dhw'],
        'validation': ['walnut_seed1', 'smooth_seed1'],
        'test': ['walnut', 'smooth_seed2'],
        'builtin': 'walnut',
    },
}

# Algorithms of the table and the grids `tune` searches (on validation images only).
GRIDS = {
    'tomography_2d': {
        'hqs': {'--iterations': [8], '--data-weight': [0.1, 0.2, 0.3], '--sigma': [0.04, 0.06, 0.1]},
        # Fixed-sigma PGD with the PnP-stable weights, long enough to show whether it settles (STABLE_ONLY);
        # from zeros (from FBP it overshoots: the early iterates beat the fixed point), step 1.9 / ||A||^2.
        'pgd': {'--iterations': [1000], '--sigma': [0.005, 0.01, 0.02], '--step-factor': [1.9],
                '--weights': ['weights/drunet_gray_stable.safetensors']},
        'admm': {'--iterations': [30], '--sigma': [0.05, 0.1, 0.15], '--penalty': [0.05, 0.2],
                 '--init': ['pseudo_inverse']},
    },
    'highres_deblur': {
        'hqs': {'--iterations': [8], '--data-weight': [0.1, 0.2, 0.3], '--sigma': [0.01, 0.015, 0.02, 0.03]},
        'pgd': {'--iterations': [30], '--sigma': [0.005, 0.02, 0.05], '--step': ['0.1']},
        'admm': {'--iterations': [20], '--sigma': [0.02, 0.05], '--penalty': [0.1, 0.5]},
    },
    'tomography_3d': {
        'hqs': {'--iterations': [8], '--data-weight': [0.1, 0.3, 1.0], '--sigma': [0.03, 0.05, 0.08]},
        'pgd': {'--iterations': [20], '--sigma': [0.03], '--relaxation': [0.1, 1.0]},
        'admm': {'--iterations': [12], '--sigma': [0.03], '--penalty': [0.1, 1.0]},
    },
}


def run(cmd, **kw):
    print('+', ' '.join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


# ---- prepare -------------------------------------------------------------------------------------------

def _square_crop(a):
    h, w = a.shape[:2]
    s = min(h, w)
    return a[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


def _gray_256(path_or_array):
    import numpy as np
    from PIL import Image
    im = Image.open(path_or_array).convert('L') if isinstance(path_or_array, str) else path_or_array
    a = _square_crop(np.asarray(im, dtype=np.float32) / 255.0)
    return np.clip(np.asarray(Image.fromarray(a).resize((256, 256), Image.BICUBIC), dtype=np.float32), 0, 1)


def _ellipses(size, seed, count=12):
    """Random ellipses with values summed and clipped to [0, 1] (a phantom other than Shepp-Logan)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    img = np.zeros((size, size), np.float32)
    for _ in range(count):
        cx, cy = rng.uniform(-.6, .6, 2)
        a, b = rng.uniform(.08, .5, 2)
        t, v = rng.uniform(0, np.pi), rng.uniform(-.3, .6)
        xr = (x - cx) * np.cos(t) + (y - cy) * np.sin(t)
        yr = -(x - cx) * np.sin(t) + (y - cy) * np.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1] += v
    return np.clip(img, 0, 1).astype(np.float32)


def _smooth_volume(size, seed):
    """A volume that is not piecewise constant: a sphere of smoothly varying density (low-pass filtered noise)
    with a few smooth blobs, values in [0, 1]."""
    import numpy as np
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((size, size, size))
    k = np.fft.fftfreq(size)
    kz, ky, kx = np.meshgrid(k, k, k, indexing='ij')
    field = np.real(np.fft.ifftn(np.fft.fftn(noise) * np.exp(-(kx ** 2 + ky ** 2 + kz ** 2) / (2 * 0.04 ** 2))))
    field = (field - field.min()) / (field.max() - field.min())
    z, y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j, -1:1:size * 1j]
    r = np.sqrt(x ** 2 + y ** 2 + z ** 2)
    vol = np.where(r < 0.8, 0.3 + 0.7 * field, 0.0)
    for _ in range(5):
        c = rng.uniform(-0.4, 0.4, 3)
        s = rng.uniform(0.08, 0.2)
        vol += 0.3 * np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) / (2 * s ** 2)) * (r < 0.8)
    return np.clip(vol, 0, 1).astype(np.float32)


def prepare(args):
    import numpy as np
    import skimage.data
    from PIL import Image
    truth = os.path.join(args.work, 'truth')
    os.makedirs(truth, exist_ok=True)
    missing = [p for p in VALIDATION_PHOTOS.values() if not os.path.exists(p)]
    if missing:
        sys.exit('prepare: missing ' + ', '.join(missing) +
                 ' (apt-get install plasma-workspace-wallpapers lxqt-themes, or tools/train_drunet.py setup)')
    for name, path in VALIDATION_PHOTOS.items():
        np.save(os.path.join(truth, f'{name}_gray256.npy'), _gray_256(path))
        with Image.open(path) as im:  # colour, longer side 512 as the example resizes it (bicubic)
            im.convert('RGB').save(os.path.join(truth, f'{name}.png'))
    np.save(os.path.join(truth, 'ellipses_gray256.npy'), _ellipses(256, 1))
    np.save(os.path.join(truth, 'camera_gray256.npy'), _gray_256(Image.fromarray(skimage.data.camera())))
    for name in ('astronaut', 'coffee'):
        Image.fromarray(getattr(skimage.data, name)()).save(os.path.join(truth, f'{name}.png'))
    for seed in (1, 2):
        np.save(os.path.join(truth, f'smooth_seed{seed}_64.npy'), _smooth_volume(64, seed))
    print(f'prepare: images in {truth}')


# ---- runs ----------------------------------------------------------------------------------------------

def image_args(problem, image, work):
    """The example arguments selecting `image` for `problem` (none for the built-in one)."""
    truth = os.path.join(work, 'truth')
    if image == PROBLEMS[problem]['builtin']:
        return []
    if problem == 'tomography_2d':
        return ['--truth', os.path.join(truth, f'{image}_gray256.npy')]
    if problem == 'highres_deblur':
        return ['--image', os.path.join(truth, f'{image}.png')]
    if image.startswith('walnut_seed'):
        return ['--phantom-seed', image[len('walnut_seed'):]]
    return ['--truth', os.path.join(truth, f'{image}_64.npy')]


def weights_file(args, example, chosen=None):
    """The DRUNet weights the example runs with: the algorithm's own (`chosen`, a "--weights" entry of its
    parameters, relative to the repository), else --weights-color / --weights-gray, else the shipped ones."""
    if chosen:
        return os.path.join(ROOT, chosen)
    if example == 'highres_deblur':
        return args.weights_color or os.path.join(ROOT, 'weights', 'drunet_color_deblur.safetensors')
    return args.weights_gray or os.path.join(ROOT, 'weights', 'drunet_gray.safetensors')


@functools.lru_cache(maxsize=None)
def weights_digest(path):
    """sha256 of a weights file (runs are cached per weights file; read once per path and process)."""
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_example(args, problem, image, algorithm, params, baselines):
    """result.json of one run (cached by its arguments)."""
    p = PROBLEMS[problem]
    flags = p['args'] + image_args(problem, image, args.work) + ['--algorithm', algorithm]
    for k, v in sorted(params.items()):
        if k != '--weights':
            flags += [k, str(v)]
    flags += ['--baselines', '1' if baselines else '0', '--threads', str(args.threads), '--quiet']
    weights = weights_file(args, p['example'], params.get('--weights'))
    key = hashlib.sha256(' '.join([problem, weights_digest(weights)] + flags).encode()).hexdigest()[:16]
    flags += ['--weights', weights]
    out = os.path.join(args.work, 'runs', f'{problem}-{image}-{algorithm}-{key}')
    result = os.path.join(out, 'result.json')
    if not os.path.exists(result):
        exe = os.path.join(args.build_dir, 'examples', p['example'])
        start = time.time()
        run([exe] + flags + ['--output-dir', out], stdout=subprocess.DEVNULL)
        print(f'  {time.time() - start:.1f} s', flush=True)
    with open(result) as f:
        loaded = json.load(f)
    loaded['run_directory'] = out  # where its images are (not part of result.json)
    return loaded


def final_psnr(result):
    return result['final']['psnr']


# A run "settled" (did not diverge or drift): its last relative change is below 1e-4 and its final PSNR is
# within 0.2 dB of the best of its iterates. Fixed-sigma algorithms in STABLE_ONLY are tuned among the
# parameters that settle on every validation image.
SETTLED_RULE = 'parameters whose runs settled on every validation image (last relative change < 1e-4, final PSNR within 0.2 dB of the best iterate)'
STABLE_ONLY = {'tomography_2d': ('pgd',)}


def settled(result):
    records = result['records'][0]
    change = records[-1]['relative_change']
    return (change is not None and change < 1e-4
            and max(r['psnr'] for r in records) - records[-1]['psnr'] <= 0.2)


# ---- tune ----------------------------------------------------------------------------------------------

def tune(args):
    problems = [args.problem] if args.problem else list(PROBLEMS)
    tuned = {}
    path = os.path.join(args.work, 'tuned.json')
    if os.path.exists(path):
        with open(path) as f:
            tuned = json.load(f)
    for problem in problems:
        tuned.setdefault(problem, {})
        for algorithm, grid in GRIDS[problem].items():
            if args.algorithm and algorithm != args.algorithm:
                continue
            keys = sorted(grid)
            stable_only = algorithm in STABLE_ONLY.get(problem, ())
            scores = []
            for values in itertools.product(*(grid[k] for k in keys)):
                params = dict(zip(keys, values))
                results = [run_example(args, problem, image, algorithm, params, False)
                           for image in PROBLEMS[problem]['validation']]
                psnrs = [final_psnr(r) for r in results]
                stable = all(settled(r) for r in results)
                mean = sum(psnrs) / len(psnrs)
                if stable or not stable_only:
                    scores.append((mean, params, psnrs))
                print(f'{problem} {algorithm} {params}: validation PSNR {" ".join(f"{x:.2f}" for x in psnrs)} '
                      f'mean {mean:.2f}{" (not settled)" if stable_only and not stable else ""}', flush=True)
            if not scores:
                print(f'{problem} {algorithm}: no parameters of the grid settled on every validation image; '
                      'nothing chosen', flush=True)
                continue
            best = max(scores, key=lambda s: s[0])
            tuned[problem][algorithm] = {'params': best[1], 'validation_mean_psnr': round(best[0], 3),
                                         'validation_images': PROBLEMS[problem]['validation'],
                                         'grid': {k: grid[k] for k in keys}}
            if stable_only:
                tuned[problem][algorithm]['chosen_among'] = SETTLED_RULE
            with open(path, 'w') as f:
                json.dump(tuned, f, indent=1)
    print(f'tune: chosen parameters in {path}')


# ---- table ---------------------------------------------------------------------------------------------

def table(args):
    with open(args.params) as f:
        params = json.load(f)
    rows = []
    for problem in ([args.problem] if args.problem else list(PROBLEMS)):
        chosen = params[problem]
        default = chosen.get('default_algorithm', 'hqs')
        for image in PROBLEMS[problem]['test']:
            cells = {}
            baselines = {}
            for algorithm in ('hqs', 'pgd', 'admm'):
                if algorithm not in chosen:
                    continue
                result = run_example(args, problem, image, algorithm, chosen[algorithm]['params'],
                                     baselines=(algorithm == default))
                cells[f'PnP-DRUNet {algorithm.upper()}'] = (final_psnr(result), result['final']['ssim'])
                for b in result.get('baselines', []):
                    baselines[b['name']] = (b['psnr'], b['ssim'])
            rows.append({'problem': problem, 'image': image, 'default_algorithm': default,
                         'trained_on': image in PROBLEMS[problem].get('trained_on', []),
                         'baselines': baselines, 'pnp': cells})
    with open(os.path.join(args.work, 'quality.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    lines = []
    for row in rows:
        pnp = row['pnp'][f"PnP-DRUNet {row['default_algorithm'].upper()}"][0]
        classical = {k: v for k, v in row['baselines'].items() if 'tv' not in k.lower()}
        best_classical = max(classical.items(), key=lambda kv: kv[1][0]) if classical else ('-', (float('nan'), 0))
        everything = {**row['baselines'], **row['pnp']}
        best = max(everything.items(), key=lambda kv: kv[1][0])
        cells = ', '.join(f'{k} {v[0]:.2f}' for k, v in sorted(everything.items(), key=lambda kv: -kv[1][0]))
        lines.append(f"| {row['problem']} | {row['image']}{' (DRUNet training image)' if row['trained_on'] else ''} "
                     f"| {pnp:.2f} | {best_classical[0]} {best_classical[1][0]:.2f} | {pnp - best_classical[1][0]:+.2f} "
                     f"| {best[0]} | {cells} |")
    header = ('| problem | test image | PnP-DRUNet (default algorithm) dB | best non-learned non-TV baseline dB '
              '| margin dB | best method | all methods (PSNR dB) |\n|---|---|---|---|---|---|---|')
    text = header + '\n' + '\n'.join(lines) + '\n'
    with open(os.path.join(args.work, 'quality.md'), 'w') as f:
        f.write(text)
    print(text)


# ---- stability -----------------------------------------------------------------------------------------

def checkerboard_ratio(image_png, truth_png):
    """Energy of the image's highest spatial frequencies (both |k_x| and |k_y| above 3/4 of Nyquist, where a
    checkerboard lives) over the truth's: about 1 for a clean reconstruction, orders of magnitude more when
    checkerboard artifacts grow."""
    import numpy as np
    from PIL import Image

    def corner_energy(path):
        a = np.asarray(Image.open(path).convert('L'), dtype=np.float64) / 255.0
        f = np.fft.fftshift(np.abs(np.fft.fft2(a - a.mean())) ** 2)
        k = np.abs(np.fft.fftshift(np.fft.fftfreq(a.shape[0])))[:, None], \
            np.abs(np.fft.fftshift(np.fft.fftfreq(a.shape[1])))[None, :]
        return float(f[(k[0] > 0.375) & (k[1] > 0.375)].sum())

    return corner_energy(image_png) / max(corner_energy(truth_png), 1e-30)


def stability(args):
    """The fixed-sigma PnP-PGD of `table` (configs/quality_parameters.json: tomography_2d, pgd) on the 2D test
    images: best PSNR and its iteration, final PSNR, relative change of the last iterate, checkerboard ratio.
    Writes DIR/stability.md."""
    with open(args.params) as f:
        params = json.load(f)['tomography_2d']['pgd']['params']
    lines = ['| test image | iterations | best PSNR dB (iteration) | final PSNR dB | final - best dB '
             '| relative change, last iteration | checkerboard ratio |', '|---|---|---|---|---|---|---|']
    for image in PROBLEMS['tomography_2d']['test']:
        result = run_example(args, 'tomography_2d', image, 'pgd', params, False)
        records = result['records'][0]
        psnrs = [r['psnr'] for r in records]
        best = max(range(len(psnrs)), key=lambda i: psnrs[i])
        images = {k: os.path.join(result['run_directory'], v) for k, v in result['images'].items()}
        ratio = checkerboard_ratio(images['reconstruction'], images['truth'])
        lines.append(f'| {image} | {len(records)} | {psnrs[best]:.2f} ({best + 1}) | {psnrs[-1]:.2f} '
                     f'| {psnrs[-1] - psnrs[best]:+.2f} | {records[-1]["relative_change"]:.1e} | {ratio:.2f} |')
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(args.work, 'stability.md'), 'w') as f:
        f.write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=('prepare', 'tune', 'table', 'stability'))
    parser.add_argument('--work', required=True, help='folder for images, runs and results')
    parser.add_argument('--build-dir', default=os.path.join(ROOT, 'build', 'release'))
    parser.add_argument('--problem', choices=list(PROBLEMS), help='only this problem')
    parser.add_argument('--algorithm', choices=('hqs', 'pgd', 'admm'), help='tune: only this algorithm')
    parser.add_argument('--params', default=DEFAULT_PARAMS, help='table: the parameters (tune writes tuned.json)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--weights-gray', help='DRUNet weights of the CT problems (default: weights/drunet_gray)')
    parser.add_argument('--weights-color', help='DRUNet weights of deblurring (default: weights/drunet_color_deblur, '
                        'the example\'s default)')
    args = parser.parse_args()
    {'prepare': prepare, 'tune': tune, 'table': table, 'stability': stability}[args.command](args)


if __name__ == '__main__':
    main()
