"""Fixtures of the Python package's tests. `make test` runs them (Scripts/test-python)
with the built wheel installed in a fresh virtual environment; the environment names
the model folder (NSI_MODEL), the `nsi` command line to compare with (NSI_CLI), and the
Swift toolchain the wheel must not load from (NSI_TOOLCHAIN)."""
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _path(variable, default):
    return os.path.abspath(os.environ.get(variable) or os.path.join(ROOT, default))


MODEL = _path("NSI_MODEL", "models/smollm2-135m")
CLI = _path("NSI_CLI", ".build/debug/nsi")
SAMPLES = os.path.join(ROOT, "Samples")


@pytest.fixture(scope="session")
def model():
    import nsi
    return nsi.Model(MODEL)


def cli(*arguments, check=True, **kwargs):
    """Runs `nsi ARGUMENTS...`; returns the completed process."""
    done = subprocess.run([CLI, *arguments], capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"nsi {' '.join(arguments)} exited {done.returncode}:\n{done.stderr}")
    return done
