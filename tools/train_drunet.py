#!/usr/bin/env python3
"""Trains the DRUNet weights shipped in weights/ (drunet_gray.safetensors, drunet_color.safetensors): the
official DRUNet layout (tools/drunet_torch.py) at reduced width, on photographs from Debian's wallpaper
packages, on the CPU. See docs/model_card.md for the data, the settings and the results.

    /usr/bin/python3 tools/train_drunet.py setup                # installs the image packages (apt-get, root)
    /usr/bin/python3 tools/train_drunet.py all --work DIR --threads 1   # both networks at once -> weights/
    /usr/bin/python3 tools/train_drunet.py all --work DIR --threads 1 --stop-at K   # the same, stopped after K steps
    /usr/bin/python3 tools/train_drunet.py train --channels 1 --work DIR --out weights/drunet_gray.safetensors
    /usr/bin/python3 tools/train_drunet.py train --channels 3 --work DIR --out weights/drunet_color.safetensors
    /usr/bin/python3 tools/train_drunet.py export --channels 1 --work DIR --out FILE   # from the checkpoint
    /usr/bin/python3 tools/train_drunet.py heldout --work DIR    # writes the held-out images as .npy (C x H x W)
    /usr/bin/python3 tools/train_drunet.py evaluate --channels 1 --weights FILE --work DIR
    /usr/bin/python3 tools/train_drunet.py stabilize --channels 1 --weights FILE --work DIR --out FILE --penalty 0.1
    /usr/bin/python3 tools/train_drunet.py stabilize-pnp --weights FILE --work DIR --out FILE --threads 1
    /usr/bin/python3 tools/train_drunet.py lipschitz --weights FILE --work DIR --threads 1

`stabilize-pnp` fine-tunes a network (the shipped weights/drunet_gray_stable.safetensors: the shipped
weights/drunet_gray.safetensors with the default settings) with a penalty on its Jacobian's spectral norm at
PnP-like inputs, so that PnP proximal-gradient iterations with a fixed small sigma converge
(docs/model_card.md); it is seeded and resumable (DIR/stabilize_<channels>.pt). `lipschitz` prints the empirical Lipschitz constants of
the denoiser D and of its residual I - D on the held-out images at sigma 0.01, 0.02 and 0.05.

`train` prepares the data once (DIR/data_<channels>.npz), then trains for a fixed number of steps with a
seeded sampler: the patches, flips, noise levels and noise of step s depend only on (seed, s), so a run
resumed from DIR/checkpoint_<channels>.pt (written every --checkpoint-every steps) sees the same data as an
uninterrupted one. Threads: --threads (default 2). Everything is deterministic up to the floating-point
summation order of PyTorch's CPU kernels.

The data, the architecture and the schedule live in tools/drunet_training.py, the stability commands in
tools/drunet_stabilize.py; this file is the command line and the training itself.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import read_safetensors, write_safetensors  # noqa: E402
from drunet_stabilize import PNP_PATCHES, STABILIZE_DEFAULTS, lipschitz, stabilize, stabilize_pnp  # noqa: E402
from drunet_training import (BLOCKS, FINAL_LEARNING_RATE, LEARNING_RATE, PACKAGES, WIDTHS, denoise,  # noqa: E402
                             learning_rate, load_network, make_batch, new_network, noisy_image, parse_widths,
                             prepare, psnr, skimage_test_images, validation_psnr, widths_of)

EVAL_SIGMAS = (15, 25, 50)


# Steps of the shipped networks: the grayscale one needs more to pull clearly ahead of TV.
DEFAULT_STEPS = {1: 3000, 3: 1000}


def train(args):
    torch.set_num_threads(args.threads)
    args.steps = args.steps or DEFAULT_STEPS[args.channels]
    train_set, validation = prepare(args.work, args.channels)
    print(f'{len(train_set)} training and {len(validation)} validation images '
          f'({sum(im.shape[1] * im.shape[2] for _, im in train_set)} training pixels)', flush=True)
    torch.manual_seed(args.seed)
    checkpoint = os.path.join(args.work, f'checkpoint_{args.channels}.pt')
    state = torch.load(checkpoint) if os.path.exists(checkpoint) else None
    widths = args.widths or WIDTHS
    if state is not None:
        if args.widths and tuple(args.widths) != widths_of(state['model']):
            raise SystemExit(f'--widths {args.widths} differs from the checkpoint {checkpoint}: '
                             f'{widths_of(state["model"])}')
        widths = widths_of(state['model'])
    elif args.weights:
        given = widths_of(read_safetensors(args.weights))
        if args.widths and tuple(args.widths) != given:
            raise SystemExit(f'--widths {args.widths} differs from --weights {args.weights}: {given}')
        widths = given
    net = new_network(args.channels, widths)
    initial_lr = args.lr if args.lr is not None else LEARNING_RATE
    final_lr = args.final_lr if args.final_lr is not None else FINAL_LEARNING_RATE
    optimizer = torch.optim.Adam(net.parameters(), lr=initial_lr)
    step = 0
    if args.weights and state is None:
        net.load_state_dict(read_safetensors(args.weights))
        print(f'fine-tuning {args.weights} (sha256 {hashlib.sha256(open(args.weights, "rb").read()).hexdigest()[:16]})',
              flush=True)
    if state is not None:
        net.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        step = state['step']
        print(f'resumed from {checkpoint} at step {step}', flush=True)
    print(f'DRUNet widths {widths}, blocks {BLOCKS}: {sum(p.numel() for p in net.parameters())} parameters', flush=True)
    net.train()
    start, loss_sum = time.time(), 0.0
    stop = args.steps if args.stop_at is None else min(args.stop_at, args.steps)
    while step < stop:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, args.steps, initial_lr, final_lr)
        clean, noisy, sigma = make_batch(train_set, args.channels, args.seed, step, args.synthetic)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16):
            output = net(noisy, sigma)
        loss = torch.nn.functional.l1_loss(output.float(), clean)
        optimizer.zero_grad()
        loss.backward()
        if args.clip_grad:
            torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip_grad)
        optimizer.step()
        loss_sum += float(loss.detach())
        step += 1
        if step % args.log_every == 0:
            elapsed = time.time() - start
            print(f'step {step} loss {loss_sum / args.log_every:.5f} '
                  f'lr {learning_rate(step, args.steps, initial_lr, final_lr):.2e} '
                  f'{elapsed:.0f} s', flush=True)
            loss_sum = 0.0
        if step % args.checkpoint_every == 0 or step == stop:
            torch.save({'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step},
                       checkpoint + '.tmp')
            os.replace(checkpoint + '.tmp', checkpoint)
            net.eval()
            print(f'step {step} checkpoint; validation PSNR at sigma 25 (256 px centre crops): '
                  f'{validation_psnr(net, validation, 25, args.seed):.2f} dB', flush=True)
            net.train()
    export(args)


def export(args):
    checkpoint = os.path.join(args.work, f'checkpoint_{args.channels}.pt')
    state = torch.load(checkpoint)
    net = new_network(args.channels, widths_of(state['model']))
    net.load_state_dict(state['model'])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tensors, parameters = write_safetensors(args.out, net.state_dict())
    print(f'step {state["step"]}: {tensors} tensors, {parameters} parameters -> {args.out}', flush=True)


def heldout(args):
    """Writes the held-out images (validation split and skimage test images), gray and colour, as float32
    C x H x W .npy files in [0, 1] for the native evaluation (tools/denoiser_psnr_table.cpp)."""
    for channels in (1, 3):
        _, validation = prepare(args.work, channels)
        folder = os.path.join(args.work, 'heldout', 'gray' if channels == 1 else 'color')
        os.makedirs(folder, exist_ok=True)
        sets = [('validation', validation), ('skimage', skimage_test_images(channels))]
        for set_name, images in sets:
            for name, im in images:
                stem = set_name + '__' + os.path.splitext(name.replace('/', '_'))[0]
                np.save(os.path.join(folder, stem + '.npy'), im.astype(np.float32) / 255.0)
        print(folder, ', '.join(f'{s}: {len(i)}' for s, i in sets))


def evaluate(args):
    torch.set_num_threads(args.threads)
    net = load_network(args.channels, args.weights)
    net.eval()
    _, validation = prepare(args.work, args.channels)
    for set_name, images in (('validation', validation), ('skimage', skimage_test_images(args.channels))):
        row = []
        for s in EVAL_SIGMAS:
            values = []
            for _, im in images:
                clean, noisy = noisy_image(im, s, args.seed)
                values.append(psnr(denoise(net, noisy, s / 255.0), clean))
            row.append(f'sigma {s}: {np.mean(values):.2f} dB')
        print(f'{set_name} ({len(images)} images): ' + ', '.join(row), flush=True)


def train_all(args):
    """Trains the gray and the colour network at the same time (one process and --threads threads each) and
    writes weights/drunet_gray.safetensors and weights/drunet_color.safetensors; each process logs to
    <work>/train_<channels>.log."""
    os.makedirs(args.work, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    children = []
    for channels, name in ((1, 'gray'), (3, 'color')):
        command = [sys.executable, os.path.abspath(__file__), 'train', '--channels', str(channels), '--work', args.work,
                   '--out', os.path.join(root, 'weights', f'drunet_{name}.safetensors'),
                   '--steps', str(args.steps or DEFAULT_STEPS[channels]),
                   '--seed', str(args.seed), '--threads', str(args.threads), '--log-every', str(args.log_every),
                   '--checkpoint-every', str(args.checkpoint_every)]
        if args.stop_at is not None:
            command += ['--stop-at', str(args.stop_at)]
        log = open(os.path.join(args.work, f'train_{channels}.log'), 'a')
        children.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
    failed = 0
    for child, log in children:
        failed += child.wait() != 0
        log.close()
    sys.exit(failed)


def setup(_):
    subprocess.run(['apt-get', 'install', '-y', '--no-install-recommends'] + PACKAGES, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['setup', 'all', 'train', 'export', 'heldout', 'evaluate', 'stabilize',
                                            'stabilize-pnp', 'lipschitz'])
    parser.add_argument('--channels', type=int, choices=[1, 3], default=1)
    parser.add_argument('--work', default='drunet_training', help='data cache and checkpoints')
    parser.add_argument('--out', help='safetensors file written by train, export and stabilize')
    parser.add_argument('--weights', help='safetensors file read by evaluate and stabilize; train: the network to '
                                          'fine-tune (instead of the identity initialization)')
    parser.add_argument('--penalty', type=float,
                        help='stabilize: weight of the spectral norm penalty (default 0.1); stabilize-pnp: '
                             f'weight of the penalty (default {STABILIZE_DEFAULTS["penalty"]})')
    parser.add_argument('--target', type=float,
                        help=f'stabilize-pnp: spectral norm above which the penalty acts '
                             f'(default {STABILIZE_DEFAULTS["target"]})')
    parser.add_argument('--operator', choices=['D', '2D-I', 'R'],
                        help='stabilize-pnp: the Jacobian penalized: D (J), 2D-I (2J - I) or R (I - J) '
                             f'(default {STABILIZE_DEFAULTS["operator"]})')
    parser.add_argument('--lr', type=float,
                        help=f'train: initial learning rate (default {LEARNING_RATE}); stabilize-pnp: '
                             f'(default {STABILIZE_DEFAULTS["learning_rate"]})')
    parser.add_argument('--final-lr', type=float,
                        help=f'train: final learning rate (default {FINAL_LEARNING_RATE}); stabilize-pnp: '
                             f'(default {STABILIZE_DEFAULTS["final_learning_rate"]})')
    parser.add_argument('--widths', type=parse_widths,
                        help=f'train: the four level widths of a new network, e.g. 32,64,128,256 (default '
                             f'{",".join(map(str, WIDTHS))}; a checkpoint or --weights fixes them)')
    parser.add_argument('--clip-grad', type=float, default=0.0,
                        help='train: clip the gradient to this global norm (default 0: no clipping)')
    parser.add_argument('--bf16', action='store_true',
                        help='train: compute the forward and backward convolutions in bfloat16 (torch.autocast; '
                             'weights, optimizer state and loss stay float32). Several times faster on CPUs with '
                             'AMX or AVX512-BF16 and a recent PyTorch; the exported weights are float32')
    parser.add_argument('--synthetic', type=float, default=0.0,
                        help='train: probability that a patch is a synthetic dead-leaves image '
                             '(tools/synthetic_images.py) instead of a photograph (default 0)')
    parser.add_argument('--stabilize-seed', type=int,
                        help=f'stabilize-pnp: seed of the batches and penalty points (default '
                             f'{STABILIZE_DEFAULTS["seed"]})')
    parser.add_argument('--anchor', type=float,
                        help='stabilize-pnp: weight of an L1 term between the output and the starting network\'s '
                             f'output on the denoising batch (default {STABILIZE_DEFAULTS["anchor"]})')
    parser.add_argument('--phantoms', type=int,
                        help=f'stabilize-pnp: how many of the {PNP_PATCHES} penalty patches are random ellipse '
                             f'phantoms (default {STABILIZE_DEFAULTS["phantoms"]})')
    parser.add_argument('--sigma-min', type=float,
                        help=f'stabilize-pnp: smallest network sigma of the penalty points (default '
                             f'{STABILIZE_DEFAULTS["sigma_min"]})')
    parser.add_argument('--sigma-max', type=float,
                        help=f'stabilize-pnp: largest network sigma of the penalty points (default '
                             f'{STABILIZE_DEFAULTS["sigma_max"]})')
    parser.add_argument('--crop', type=int, default=128, help='lipschitz: centre crop of the held-out images')
    parser.add_argument('--power-iterations', type=int, default=20, help='lipschitz: power iterations')
    parser.add_argument('--operators', default='D,R', help='lipschitz: D, R (I - D), 2D-I, comma-separated')
    parser.add_argument('--steps', type=int,
                        help=f'train: steps (default: {DEFAULT_STEPS[1]} for gray, {DEFAULT_STEPS[3]} for colour); '
                             'stabilize: fine-tuning steps (default: 400); stabilize-pnp: fine-tuning steps '
                             f'(default: {STABILIZE_DEFAULTS["steps"]})')
    parser.add_argument('--stop-at', type=int, help='stop (and export) after this many of the --steps steps')
    parser.add_argument('--seed', type=int, default=20251122)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--log-every', type=int, default=50)
    parser.add_argument('--checkpoint-every', type=int, default=100)
    args = parser.parse_args()
    {'setup': setup, 'all': train_all, 'train': train, 'export': export, 'heldout': heldout, 'evaluate': evaluate,
     'stabilize': stabilize, 'stabilize-pnp': stabilize_pnp, 'lipschitz': lipschitz}[args.command](args)


if __name__ == '__main__':
    main()
