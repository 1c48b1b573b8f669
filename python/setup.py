"""Bundles libbertc.so into the package: a build from the repository's python/
folder (pip install ./python, make wheel) builds the shared library with the
flags `make install` uses (build-install/: -fPIC -fvisibility=hidden, only
bertc.h's functions exported) and copies it to bertc/lib/libbertc.so.0.
BERTC_LIB=/path/to/libbertc.so.0.1.0 at build time bundles that file instead.
Outside a checkout with neither, the package is built without a library and
finds one at import (BERTC_LIB or the system's, after `make install`)."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VERSION = "0.1.0"


def find_or_build_lib():
    env = os.environ.get("BERTC_LIB")
    if env:
        return env
    if not (os.path.exists(os.path.join(REPO, "Makefile")) and os.path.exists(os.path.join(REPO, "include", "bertc.h"))):
        return None
    target = f"build-install/libbertc.so.{VERSION}"
    subprocess.check_call(["make", "-C", REPO, "BUILD=build-install", "PIC=-fPIC -fvisibility=hidden", target])
    return os.path.join(REPO, target)


class BuildPyWithLib(build_py):
    def run(self):
        super().run()
        lib = find_or_build_lib()
        if lib:
            dest = os.path.join(self.build_lib, "bertc", "lib")
            os.makedirs(dest, exist_ok=True)
            shutil.copy2(lib, os.path.join(dest, "libbertc.so.0"))


class BinaryDistribution(Distribution):
    """The wheel carries a native library: a platform wheel, not py3-none-any."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLib}
try:  # setuptools >= 70.1 has bdist_wheel; older ones take it from the wheel package
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None
if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        """py3-none-<platform>: ctypes, no CPython extension, so any Python 3."""

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
