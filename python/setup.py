# The wheel carries native libraries (nsi/lib) but no Python extension: it is tagged for
# the platform (linux_x86_64) and for any Python 3 (py3-none), since ctypes loads them.
from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"bdist_wheel": PlatformWheel})
