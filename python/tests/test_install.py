"""The installed wheel is self-contained: the package and its native library come from
the virtual environment, and no library is loaded from the Swift toolchain."""
import os
import subprocess

import nsi
from conftest import SAMPLES


def test_the_package_is_the_installed_wheel():
    assert os.sep + "site-packages" + os.sep in nsi.__file__, nsi.__file__
    assert nsi.__version__ == nsi.library_version()
    assert "BLAS" in nsi.system_info() or "blas" in nsi.system_info()


def test_no_library_is_loaded_from_the_toolchain(model):
    model.run(os.path.join(SAMPLES, "logit_lens.nsi"))  # everything a run needs is loaded now
    package_lib = os.path.join(os.path.dirname(nsi.__file__), "lib")
    mapped = {line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith(".so") or ".so." in line}
    swift = [p for p in mapped if "swift" in os.path.basename(p).lower() or "Foundation" in os.path.basename(p)
             or os.path.basename(p) in ("libdispatch.so", "libBlocksRuntime.so")]
    assert any(p.endswith("libswiftCore.so") for p in swift), sorted(mapped)
    outside = [p for p in swift + [p for p in mapped if "nsic" in p] if not p.startswith(package_lib + os.sep)]
    assert not outside, f"loaded from outside the wheel: {outside}"
    toolchain = os.environ.get("NSI_TOOLCHAIN")
    if toolchain:
        assert not [p for p in mapped if p.startswith(toolchain)]


def test_the_library_resolves_without_the_toolchain():
    library = os.path.join(os.path.dirname(nsi.__file__), "lib", "libnsic.so")
    listing = subprocess.run(["ldd", library], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}).stdout
    assert "not found" not in listing, listing
    package_lib = os.path.dirname(library)
    for line in listing.splitlines():
        if "libswift" in line or "Foundation" in line:
            assert package_lib in line, line
    runpath = subprocess.run(["readelf", "-d", library], capture_output=True, text=True).stdout
    assert "$ORIGIN" in runpath and (not os.environ.get("NSI_TOOLCHAIN") or os.environ["NSI_TOOLCHAIN"] not in runpath)
