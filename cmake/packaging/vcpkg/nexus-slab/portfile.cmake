# SPDX-License-Identifier: MIT OR Apache-2.0
# vcpkg overlay port for nexus-slab (header-only). Use it from a checkout:
#   vcpkg install nexus-slab --overlay-ports=<checkout>/cmake/packaging/vcpkg
# A registry port would replace SOURCE_PATH with vcpkg_from_git(...).
set(VCPKG_BUILD_TYPE release)  # headers only: one configuration is enough
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS -DNEXUS_BUILD_TESTS=OFF -DNEXUS_BUILD_EXAMPLES=OFF -DNEXUS_BUILD_BENCHMARKS=OFF)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME nexus_slab CONFIG_PATH share/cmake/nexus_slab)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/share/doc")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE-MIT" "${SOURCE_PATH}/LICENSE-APACHE")
