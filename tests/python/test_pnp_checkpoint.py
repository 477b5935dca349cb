"""pnpdist.pnp's checkpoints: a run interrupted by an exception (from the observer or a signal handler) and called
again ends with the iterate and records of an uninterrupted run, bit for bit; a checkpoint of another problem and
bad arguments are refused before any iteration."""

import math
import os
import pathlib
import re
import signal
import threading

import numpy as np
import pytest

import pnpdist
from conftest import WEIGHTS, shepp_logan_ct

GRAY = str(WEIGHTS / "drunet_gray.safetensors")
# The record fields that do not measure time: equal between an interrupted and an uninterrupted run.
FIELDS = ["iteration", "data_fidelity", "psnr", "ssim", "relative_change", "relative_residual_change",
          "denoiser_sigma", "data_step_iterations"]


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def problem():
    x, g, A, y = shepp_logan_ct()
    return x, g, A, y, 0.02 * float(np.abs(A(x)).max()), pnpdist.DRUNet(GRAY)


def algorithms(noise):
    return {"pgd": pnpdist.ProximalGradient(sigma=0.03),  # step from the power method, restored on resume
            "hqs": pnpdist.HalfQuadraticSplitting(noise_level=noise, sigma_end=0.02, data_weight=0.1),
            "admm": pnpdist.ADMM(sigma=0.03, penalty=0.5)}  # keeps its dual variable in the checkpoint


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_records(result, reference):
    assert len(result["records"]) == len(reference["records"])
    for got, want in zip(result["records"] + [result["initial"]], reference["records"] + [reference["initial"]]):
        for field in FIELDS:
            assert same(got[field], want[field]), (want["iteration"], field, got[field], want[field])


@pytest.mark.parametrize("name, interrupt_after, exception",
                         [("pgd", 3, KeyboardInterrupt), ("hqs", 4, Stop), ("admm", 5, Stop)])
def test_interrupted_run_resumes_to_the_uninterrupted_result(problem, tmp_path, name, interrupt_after, exception):
    x, g, A, y, noise, net = problem
    algorithm = algorithms(noise)[name]
    iterations, every = 6, 2
    reference = pnpdist.pnp(A, y, net, algorithm, iterations=iterations, clip=(0, 1), truth=x)
    assert reference["resumed_from"] == 0
    path = tmp_path / "run.ckpt"

    def interrupt(record, iterate):
        if record["iteration"] == interrupt_after:
            raise exception("interrupted")

    with pytest.raises(exception, match="interrupted"):
        pnpdist.pnp(A, y, net, algorithm, iterations=iterations, clip=(0, 1), truth=x, observer=interrupt,
                    checkpoint=path, checkpoint_every=every)
    assert path.is_file()
    # The checkpoint of iteration interrupt_after itself is not written: the observer raised before it.
    resumed_at = (interrupt_after - 1) // every * every
    seen = []
    result = pnpdist.pnp(A, y, net, algorithm, iterations=iterations, clip=(0, 1), truth=x,
                         observer=lambda record, iterate: seen.append(record["iteration"]), checkpoint=str(path),
                         checkpoint_every=every)
    assert result["resumed_from"] == resumed_at
    assert seen == list(range(resumed_at + 1, iterations + 1))
    assert result["iterations"] == iterations and result["stop"] == "max_iterations"
    assert np.array_equal(result["x"], reference["x"])
    assert_same_records(result, reference)
    if name == "pgd":
        assert result["step"] == reference["step"] and math.isnan(result["squared_norm"])
    # The run ended on a checkpoint iteration: calling it again returns that state without iterating.
    again = pnpdist.pnp(A, y, net, algorithm, iterations=iterations, clip=(0, 1), truth=x, checkpoint=path,
                        observer=lambda record, iterate: seen.append(-1))
    assert again["resumed_from"] == iterations and seen[-1] == iterations
    assert np.array_equal(again["x"], reference["x"])
    assert_same_records(again, reference)
    # More iterations continue from it as one longer run would.
    longer = pnpdist.pnp(A, y, net, algorithm, iterations=iterations + 1, clip=(0, 1), truth=x, checkpoint=path)
    assert longer["resumed_from"] == iterations
    assert np.array_equal(longer["x"], pnpdist.pnp(A, y, net, algorithm, iterations=iterations + 1, clip=(0, 1))["x"])


def test_a_signal_interrupts_a_run_without_observer(problem, tmp_path):
    """A signal handler's exception (Ctrl-C: KeyboardInterrupt) is raised between two iterations, not after the
    run: here SIGINT is sent once the first checkpoint exists, to a handler raising Stop."""
    x, g, A, y, noise, net = problem
    algorithm = algorithms(noise)["hqs"]
    path = tmp_path / "signalled.ckpt"
    iterations = 40
    done = threading.Event()

    def send_when_checkpointed():
        while not path.exists() and not done.wait(0.005):
            pass
        if not done.is_set():
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def handler(signum, frame):
        raise Stop("signalled")

    previous = signal.signal(signal.SIGINT, handler)
    sender = threading.Thread(target=send_when_checkpointed)
    try:
        sender.start()
        with pytest.raises(Stop, match="signalled"):
            pnpdist.pnp(A, y, net, algorithm, iterations=iterations, checkpoint=path, checkpoint_every=1)
    finally:
        done.set()
        sender.join()
        signal.signal(signal.SIGINT, previous)
    seen = []

    def first(record, iterate):
        seen.append(record["iteration"])
        raise Stop("first")

    with pytest.raises(Stop, match="first"):
        pnpdist.pnp(A, y, net, algorithm, iterations=iterations, checkpoint=path, checkpoint_every=1, observer=first)
    assert len(seen) == 1 and 2 <= seen[0] < iterations  # resumed after a checkpoint, well before the end


def test_a_checkpoint_of_another_problem_is_refused(problem, tmp_path):
    x, g, A, y, noise, net = problem
    algorithm = pnpdist.HalfQuadraticSplitting(noise_level=noise)
    path = tmp_path / "problem.ckpt"
    reference = pnpdist.pnp(A, y, net, algorithm, iterations=2, checkpoint=path, checkpoint_every=2)
    assert reference["resumed_from"] == 0
    written = path.read_bytes()
    fewer_views = pnpdist.parallel_beam_2d(np.linspace(0, math.pi, 20, endpoint=False), 48, g.image_shape)
    other_operator = pnpdist.JosephProjector2D(fewer_views)
    x0 = np.full(g.image_shape, 0.5, np.float32)
    others = {
        "y": lambda: pnpdist.pnp(A, y + np.float32(1e-3), net, algorithm, iterations=2, checkpoint=path),
        "x0": lambda: pnpdist.pnp(A, y, net, algorithm, iterations=2, x0=x0, checkpoint=path),
        "operator": lambda: pnpdist.pnp(other_operator, other_operator(x), net, algorithm, iterations=2,
                                        checkpoint=path),
        "algorithm parameter": lambda: pnpdist.pnp(
            A, y, net, pnpdist.HalfQuadraticSplitting(noise_level=noise, sigma_end=0.05), iterations=2,
            checkpoint=path),
        "algorithm": lambda: pnpdist.pnp(A, y, net, pnpdist.ADMM(), iterations=2, checkpoint=path),
        "clip": lambda: pnpdist.pnp(A, y, net, algorithm, iterations=2, clip=(0, 1), checkpoint=path),
        "network": lambda: pnpdist.pnp(A, y, pnpdist.DRUNet(GRAY, tile=16, overlap=8), algorithm, iterations=2,
                                       checkpoint=path),
    }
    for what, call in others.items():
        with pytest.raises(pnpdist.InvalidArgument, match=re.escape(f"checkpoint {path} does not match")) as refused:
            call()
        assert ".hpp" not in str(refused.value) and "::" not in str(refused.value), what  # no C++ names
    with pytest.raises(pnpdist.InvalidArgument, match="beyond max_iterations 1"):
        pnpdist.pnp(A, y, net, algorithm, iterations=1, checkpoint=path)
    assert path.read_bytes() == written  # refused checkpoints are left as they were
    same_problem = pnpdist.pnp(A, y, net, algorithm, iterations=2, checkpoint=path)
    assert same_problem["resumed_from"] == 2 and np.array_equal(same_problem["x"], reference["x"])
    path.write_bytes(written[:-9] + bytes([written[-9] ^ 1]) + written[-8:])
    with pytest.raises(pnpdist.IoError, match=re.escape(f"checkpoint {path}: checksum mismatch")):
        pnpdist.pnp(A, y, net, algorithm, iterations=2, checkpoint=path)


def test_bad_checkpoint_arguments_are_refused_before_any_work(problem, tmp_path):
    x, g, A, y, noise, net = problem
    algorithm = pnpdist.HalfQuadraticSplitting(noise_level=noise)
    calls = []

    def run(**kwargs):
        return pnpdist.pnp(A, y, net, algorithm, iterations=2, observer=lambda r, it: calls.append(r), **kwargs)

    with pytest.raises(ValueError, match="^checkpoint_every must be >= 0, got -1$"):
        run(checkpoint=tmp_path / "a.ckpt", checkpoint_every=-1)
    with pytest.raises(ValueError, match=r"^checkpoint_every=2 needs a checkpoint file \(checkpoint is None\)$"):
        run(checkpoint_every=2)
    with pytest.raises(ValueError, match="checkpoint must name a file, got an empty path"):
        run(checkpoint="", checkpoint_every=1)
    with pytest.raises(TypeError):
        run(checkpoint=3, checkpoint_every=1)
    with pytest.raises(pnpdist.IoError, match=re.escape(f"checkpoint {tmp_path} is a directory")) as refused:
        run(checkpoint=tmp_path, checkpoint_every=1)
    assert isinstance(refused.value, OSError) and ".hpp" not in str(refused.value)
    missing = tmp_path / "no_such_folder" / "run.ckpt"
    with pytest.raises(pnpdist.IoError, match=re.escape(f"its folder {missing.parent} does not exist")):
        run(checkpoint=missing, checkpoint_every=1)
    assert calls == [] and os.listdir(tmp_path) == []
    # checkpoint_every=0 with a path: resumes from the file if it exists, writes none.
    result = run(checkpoint=pathlib.Path(tmp_path / "never.ckpt"))
    assert result["resumed_from"] == 0 and len(calls) == 2 and os.listdir(tmp_path) == []
