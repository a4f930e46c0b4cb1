#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Checks that every place that states the version agrees: version.hpp,
project(VERSION) in CMakeLists.txt, the vcpkg manifest and the Conan recipe.
Also checks that vcpkg.json is valid JSON and the Conan recipes compile.
Usage: check_version.py [ROOT]   (exit 1 on any disagreement)"""
import json
import pathlib
import py_compile
import re
import sys
import tempfile


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    header = (root / "include/nexus/version.hpp").read_text()
    found = {
        "include/nexus/version.hpp": ".".join(
            re.search(rf"#define NEXUS_SLAB_VERSION_{p} (\d+)", header).group(1)
            for p in ("MAJOR", "MINOR", "PATCH")),
        "CMakeLists.txt": re.search(r"project\(\s*nexus_slab\s+VERSION\s+([0-9.]+)",
                                    (root / "CMakeLists.txt").read_text()).group(1),
    }
    manifest = root / "cmake/packaging/vcpkg/nexus-slab/vcpkg.json"
    found[str(manifest.relative_to(root))] = json.loads(manifest.read_text())["version"]
    for recipe in ("cmake/packaging/conan/conanfile.py",
                   "cmake/packaging/conan/test_package/conanfile.py"):
        with tempfile.TemporaryDirectory() as scratch:
            py_compile.compile(str(root / recipe), doraise=True,
                               cfile=str(pathlib.Path(scratch) / "recipe.pyc"))
    recipe = (root / "cmake/packaging/conan/conanfile.py").read_text()
    found["cmake/packaging/conan/conanfile.py"] = re.search(
        r'^\s*version\s*=\s*"([^"]+)"', recipe, re.M).group(1)
    for where, version in found.items():
        print(f"{version:>8}  {where}")
    if len(set(found.values())) != 1:
        print("versions disagree")
        return 1
    print("all versions agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
