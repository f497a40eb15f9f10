"""Fixtures of the Python package's tests. `make test` runs them (Scripts/test-python)
with the built wheel installed in a fresh virtual environment; the environment names
the model folder (NSI_MODEL), the `nsi` command line to compare with (NSI_CLI), the
Swift toolchain the wheel must not load from (NSI_TOOLCHAIN), and the optional packages
whose tests must fail rather than skip when they are missing (NSI_TEST_REQUIRE, e.g.
"torch": Scripts/test-python installs them)."""
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _path(variable, default):
    return os.path.abspath(os.environ.get(variable) or os.path.join(ROOT, default))


MODEL = _path("NSI_MODEL", "models/smollm2-135m")
CLI = _path("NSI_CLI", ".build/debug/nsi")
SAMPLES = os.path.join(ROOT, "Samples")


def optional(name):
    """Imports an optional package; its tests skip without it, or fail when
    NSI_TEST_REQUIRE names it (as `make test` does, having installed it)."""
    required = name in os.environ.get("NSI_TEST_REQUIRE", "").split(",")
    try:
        return __import__(name)
    except ImportError as error:
        if required:
            pytest.fail(f"NSI_TEST_REQUIRE names {name}, but it cannot be imported: {error}")
        pytest.skip(f"{name} is not installed")


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
