"""Runs release the GIL, so Python threads run plans at once; Ctrl-C cancels a run."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import nsi
from conftest import SAMPLES

LONG = """generate "Once upon a time" (max_tokens = 400) {
    save ids = result.ids
}
"""


def test_a_run_releases_the_gil(model):
    plan = model.compile(os.path.join(SAMPLES, "steering.nsi"))
    done = threading.Event()
    worker = threading.Thread(target=lambda: (plan.run(), done.set()))
    spins, started = 0, time.monotonic()
    worker.start()
    while not done.is_set():
        spins += 1
    elapsed = time.monotonic() - started
    worker.join()
    # Holding the GIL for the run would leave this thread a few switch intervals;
    # released, it spins millions of times a second.
    rate = spins / elapsed
    print(f"main thread: {spins} spins in {elapsed:.2f} s while the run went on ({rate:.0f}/s)")
    assert rate > 100_000


def test_threads_run_plans_at_once_with_their_own_results(model):
    plan = model.compile(os.path.join(SAMPLES, "logit_lens.nsi"))
    prompts = ["The capital of France is", "The Eiffel Tower is in", "Paris is the capital of", "I flew to"]
    alone = [plan.run(prompt=p).stack("p_paris") for p in prompts]
    together = [None] * len(prompts)

    def work(i):
        together[i] = plan.run(prompt=prompts[i]).stack("p_paris")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together):
        assert a.tobytes() == b.tobytes()
    assert not np.array_equal(alone[0], alone[3])


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_ctrl_c_cancels_a_run_and_leaves_the_model_usable(model):
    plan = model.compile(LONG)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as caught:
        plan.run()
    elapsed = time.monotonic() - started
    print(f"KeyboardInterrupt {elapsed:.2f} s after the run started (SIGINT at 0.5 s)")
    # The interrupt carries what the run ended with: it saw the cancel and stopped.
    assert isinstance(caught.value.__cause__, nsi.Cancelled), caught.value.__cause__
    r = model.run(os.path.join(SAMPLES, "logit_lens.nsi"))
    assert r.stack("p_paris").shape == (30,)
