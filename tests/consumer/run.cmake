# SPDX-License-Identifier: MIT OR Apache-2.0
# Runs one consumer scenario end to end: (install,) configure, build, run.
# Usage: cmake -DMODE=<find_package|add_subdirectory|fetchcontent|pkgconfig> [-DCXX=<c++>]
#              -DSOURCE_DIR=<nexus-slab checkout> -DWORK_DIR=<scratch> -P run.cmake
cmake_minimum_required(VERSION 3.21)

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_args)
if(MODE STREQUAL "find_package" OR MODE STREQUAL "pkgconfig")
  run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/package
           -DNEXUS_BUILD_TESTS=OFF -DNEXUS_BUILD_EXAMPLES=OFF -DNEXUS_BUILD_BENCHMARKS=OFF)
  run_step(${CMAKE_COMMAND} --install ${WORK_DIR}/package --prefix ${WORK_DIR}/prefix)
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()
if(MODE STREQUAL "pkgconfig")
  # No CMake on the consumer side: the compiler line comes from pkg-config.
  find_program(pkg_config pkg-config REQUIRED)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${WORK_DIR}/prefix/share/pkgconfig
            ${pkg_config} --cflags nexus_slab
    RESULT_VARIABLE result OUTPUT_VARIABLE cflags OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config does not know nexus_slab")
  endif()
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  run_step(${CXX} ${cflags} ${SOURCE_DIR}/tests/consumer/main.cpp -o ${WORK_DIR}/consumer-pc)
  run_step(${WORK_DIR}/consumer-pc)
  message(STATUS "consumer (pkgconfig) built and ran")
  return()
endif()
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/consumer
         -DNEXUS_CONSUME=${MODE} -DNEXUS_SOURCE_DIR=${SOURCE_DIR} ${consumer_args})
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
find_program(consumer_exe consumer PATHS ${WORK_DIR}/consumer NO_DEFAULT_PATH REQUIRED)
run_step(${consumer_exe})
message(STATUS "consumer (${MODE}) built and ran")
