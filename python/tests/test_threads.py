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
SHORT = """generate "Once upon a time" (max_tokens = 3) {
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


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler (the one that raises KeyboardInterrupt) for the test,
    whatever the suite was started with: a job started in the background by a
    non-interactive shell (`make test > log &` in a script) inherits SIGINT ignored,
    and Python then installs no handler, so no Ctrl-C could reach it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class NativeRun:
    """The library's nsi_run, wrapped to see a run from the inside: when the native call
    starts and returns (on the thread that makes it), with which status, and how much
    CPU time that thread has spent on it. `before` and `after` run on that thread."""

    def __init__(self, monkeypatch, before=None, after=None):
        self.lib = nsi._native.lib()
        self.real, self.before, self.after = self.lib.nsi_run, before, after
        self.entered, self.returned = threading.Event(), threading.Event()
        self.clock, self.status = None, None
        monkeypatch.setattr(self.lib, "nsi_run", self)

    def __call__(self, *arguments):
        self.clock = time.pthread_getcpuclockid(threading.get_ident())
        self.entered.set()
        if self.before:
            self.before()
        self.status = self.real(*arguments)
        self.cpu_at_return = self.cpu_seconds()
        self.returned.set()
        if self.after:
            self.after()
        return self.status

    def cpu_seconds(self):
        return time.clock_gettime(self.clock)


def interrupt():
    os.kill(os.getpid(), signal.SIGINT)


main_thread_only = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                                      reason="signals reach the main thread only")


@main_thread_only
def test_ctrl_c_cancels_a_run_and_leaves_the_model_usable(model, python_sigint, monkeypatch):
    plan = model.compile(LONG)
    native = NativeRun(monkeypatch)

    def interrupt_mid_run():
        # Mid-run by the run's own progress, not by a clock: once the thread running it
        # has spent 0.2 s of CPU on it (past setting up, a few tokens in), however slowly
        # a loaded machine lets it go.
        native.entered.wait()
        while native.cpu_seconds() < 0.2 and not native.returned.is_set():
            time.sleep(0.002)
        interrupt()

    sender = threading.Thread(target=interrupt_mid_run)
    sender.start()
    with pytest.raises(KeyboardInterrupt) as caught:
        plan.run()
    sender.join()
    print(f"KeyboardInterrupt after {native.cpu_at_return:.2f} s of the run's CPU")
    # The run saw the cancel and stopped before its 400 tokens; the interrupt carries that.
    assert native.status == nsi.Cancelled.status, native.status
    assert isinstance(caught.value.__cause__, nsi.Cancelled), caught.value.__cause__
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    r = model.run(os.path.join(SAMPLES, "logit_lens.nsi"))
    assert r.stack("p_paris").shape == (30,)


@main_thread_only
@pytest.mark.parametrize("moment", ["as the native call starts", "to the run's own thread"])
def test_ctrl_c_at_the_start_of_a_run_cancels_it(model, python_sigint, monkeypatch, moment):
    # While the main thread may still be starting the helper thread or entering its wait;
    # sent to the helper thread, the signal wakes no one: the wait must still see it.
    send = interrupt if moment == "as the native call starts" else \
        (lambda: signal.pthread_kill(threading.get_ident(), signal.SIGINT))
    plan = model.compile(LONG)
    native = NativeRun(monkeypatch, before=send)
    with pytest.raises(KeyboardInterrupt) as caught:
        plan.run()
    assert native.status == nsi.Cancelled.status, native.status
    assert isinstance(caught.value.__cause__, nsi.Cancelled), caught.value.__cause__
    monkeypatch.undo()
    assert model.run(SHORT)["ids"].shape == (1, 7)


@main_thread_only
def test_ctrl_c_as_a_run_returns_raises_without_a_cause(model, python_sigint, monkeypatch):
    plan = model.compile(SHORT)
    native = NativeRun(monkeypatch, after=interrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        plan.run()
    # The run had finished: no Cancelled, its results dropped; the next run is whole.
    assert native.status == 0 and caught.value.__cause__ is None
    monkeypatch.undo()
    assert plan.run()["ids"].shape == (1, 7)


@main_thread_only
def test_a_process_that_ignores_sigint_keeps_ignoring_it(model, monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        native = NativeRun(monkeypatch, before=interrupt)
        r = model.compile(SHORT).run()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert native.status == 0 and r["ids"].shape == (1, 7)
