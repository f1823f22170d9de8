"""Build and install the `tessera` Python package from the source tree, offline.

    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation ./bindings/python

Setuptools (Debian's python3-setuptools) builds one extension, tessera._tessera:
SWIG turns ../swig/tessera.i into C, and the C library's own sources (lib/*.c
of this tree) are compiled into the extension, so the package needs nothing
at run time but libyaml, libpcre2 and libyajl.  Outside the source tree
(TESSERA_SOURCE_DIR unset and no ../../lib) the extension links an installed
libtessera found by pkg-config instead.  No network: nothing is downloaded.

Build files go to ./build (TESSERA_BUILD_BASE moves them).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("TESSERA_SOURCE_DIR") or HERE.parent.parent)
SWIG_INTERFACE = ROOT / "bindings" / "swig" / "tessera.i"
LIB_SOURCES = sorted((ROOT / "lib").glob("*.c"))
BUILD_BASE = os.environ.get("TESSERA_BUILD_BASE") or str(HERE / "build")


def library_version() -> str:
    """The version of this tree: project(VERSION) in CMakeLists.txt, the one
    place it is written (CMake generates tessera_version.h from it); outside
    the tree, the installed libtessera's."""
    cmakelists = ROOT / "CMakeLists.txt"
    if not cmakelists.exists():
        return pkg_config("--modversion", "tessera")[0]
    m = re.search(r"^project\(\s*tessera\s+VERSION\s+(\d+)\.(\d+)\.(\d+)\b",
                  cmakelists.read_text(encoding="utf-8"), re.M)
    if not m:
        raise SystemExit(f"no project(tessera VERSION x.y.z) in {cmakelists}")
    return ".".join(m.groups())


def write_version_header(directory: Path) -> None:
    """tessera_version.h as CMake's configure_file writes it from
    cmake/tessera_version.h.in, for a build of this tree without CMake."""
    major, minor, patch = (int(x) for x in library_version().split("."))
    values = {"PROJECT_VERSION_MAJOR": str(major), "PROJECT_VERSION_MINOR": str(minor),
              "PROJECT_VERSION_PATCH": str(patch), "PROJECT_VERSION": f"{major}.{minor}.{patch}",
              "TSR_VERSION_NUMBER": str(major * 1000000 + minor * 1000 + patch)}
    template = (ROOT / "cmake" / "tessera_version.h.in").read_text(encoding="utf-8")
    text = re.sub(r"@(\w+)@", lambda m: values[m.group(1)], template)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tessera_version.h").write_text(text, encoding="utf-8")


def pkg_config(*args: str) -> list[str]:
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"pkg-config {' '.join(args)} failed ({e}); install "
                         "libyaml-dev libpcre2-dev libyajl-dev pkg-config") from None
    return out.stdout.split()


class BuildTessera(build_ext):
    """SWIG first (wrapper C into build_temp, the proxy _native.py next to the
    package in build_lib), then the ordinary extension build."""

    def run(self) -> None:
        swig = shutil.which("swig4.0") or shutil.which("swig")
        if not swig:
            raise SystemExit("swig not found: apt-get install swig")
        temp = Path(self.build_temp)
        temp.mkdir(parents=True, exist_ok=True)
        pkg_out = Path(self.build_lib if not self.inplace else HERE) / "tessera"
        pkg_out.mkdir(parents=True, exist_ok=True)
        wrapper = temp / "tessera_python_wrap.c"
        self.spawn([swig, "-python", "-module", "_native", "-interface", "_tessera",
                    f"-I{ROOT / 'include'}", f"-I{HERE}", "-outdir", str(pkg_out),
                    "-o", str(wrapper), str(SWIG_INTERFACE)])
        ext = self.extensions[0]
        ext.sources = [str(wrapper)] + ext.sources
        if LIB_SOURCES:                              # the C library of this tree
            write_version_header(temp / "include")
            ext.include_dirs.insert(0, str(temp / "include"))
        super().run()


def extension() -> Extension:
    deps = ["yaml-0.1", "libpcre2-8", "yajl"]
    if LIB_SOURCES:                                  # the C library of this tree
        cflags = pkg_config("--cflags", *deps)
        libs = pkg_config("--libs", *deps)
        sources = [str(p) for p in LIB_SOURCES]
        includes = [str(ROOT / "include"), str(ROOT / "lib")]
    else:                                            # an installed libtessera
        cflags = pkg_config("--cflags", "tessera")
        libs = pkg_config("--libs", "tessera")
        sources, includes = [], []
    return Extension(
        "tessera._tessera",
        sources=sources,
        include_dirs=includes,
        define_macros=[("_POSIX_C_SOURCE", "200809L")],
        extra_compile_args=["-std=c11", "-fvisibility=hidden", *cflags],
        extra_link_args=libs,
    )


setup(
    name="tessera",
    version=library_version(),
    description="Ticket pricing and loyalty rules from YAML rule files (binding of libtessera)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=["tessera"],
    package_data={"tessera": ["py.typed", "*.pyi"]},
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildTessera},
    options={"build": {"build_base": BUILD_BASE},
             "egg_info": {"egg_base": BUILD_BASE}},
    zip_safe=False,
)
