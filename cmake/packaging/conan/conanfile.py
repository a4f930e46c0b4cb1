# SPDX-License-Identifier: MIT OR Apache-2.0
"""Conan 2 recipe for nexus-slab (header-only). From a checkout:
    conan create cmake/packaging/conan
"""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout


class NexusSlabConan(ConanFile):
    name = "nexus-slab"
    version = "0.1.0"
    license = "MIT OR Apache-2.0"
    description = ("Header-only C++20 slab and slab list over OS-controlled "
                   "memory (mmap, mlock, huge pages)")
    topics = ("slab", "allocator", "low-latency", "mmap", "huge-pages", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def _checkout(self):
        return os.path.join(self.recipe_folder, os.pardir, os.pardir, os.pardir)

    def export_sources(self):
        root = self._checkout()
        copy(self, "include/*", root, self.export_sources_folder)
        copy(self, "LICENSE-*", root, self.export_sources_folder)

    def layout(self):
        basic_layout(self, src_folder=".")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        # Headers only: one package serves every configuration.
        self.info.clear()

    def package(self):
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))
        copy(self, "LICENSE-*", self.source_folder,
             os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "nexus_slab")
        self.cpp_info.set_property("cmake_target_name", "nexus::slab")
        self.cpp_info.set_property("pkg_config_name", "nexus_slab")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
