# SPDX-License-Identifier: MIT OR Apache-2.0
# Runs one entry of the CI matrix as a sub-build of the source tree:
# configure, build, run the unit tests. tests/matrix/CMakeLists.txt registers
# one CTest test per entry; run one by hand with
#   cmake -DENTRY=<entry> -DSOURCE_DIR=<checkout> -DWORK_DIR=<scratch>
#         -DCXX=<compiler> [-DJOBS=2] -P tests/matrix/run.cmake
# Entries:
#   cxx23      -std=c++23, -Werror, tests + examples + benchmark smoke runs
#   asan_ubsan ASan + UBSan (+ LeakSanitizer), every unit test
#   tsan       TSan, the tests that start threads (TESTS lists them)
#   fuzz       the libFuzzer targets of tests/fuzz (TESTS lists them), build only
#   windows    cross-compiled unit tests run under wine (tests/matrix/windows)
cmake_minimum_required(VERSION 3.21)

foreach(var ENTRY SOURCE_DIR WORK_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED JOBS)
  set(JOBS 2)
endif()

# Runs a command, echoing it, and stops the entry when it fails. Output goes
# straight to CTest's log so a failure shows the compiler or test output.
function(run_step)
  string(JOIN " " shown ${ARGN})
  message(STATUS "matrix ${ENTRY}: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "matrix ${ENTRY}: step failed (${result}): ${shown}")
  endif()
endfunction()

# Sub-builds never register the matrix again, skip the single-header copies
# (the main build covers them) and keep warnings fatal.
set(common_args -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=${CXX}
                -DNEXUS_WERROR=ON -DNEXUS_TEST_MATRIX=OFF
                -DNEXUS_TEST_SINGLE_HEADER=OFF)
# Packaging tests install and rebuild the project: the main build runs them.
set(ctest_exclude "^(consumer|single_header|packaging):")
set(sanitizer_common "-fno-omit-frame-pointer -fno-sanitize-recover=all")
set(build_targets)
set(ctest_select)
set(test_env)
set(source ${SOURCE_DIR})

if(ENTRY STREQUAL "cxx23")
  # -DBENCHMARKS=OFF leaves the benchmarks out (the main build has them).
  if(NOT DEFINED BENCHMARKS)
    set(BENCHMARKS ON)
  endif()
  set(args ${common_args} -DCMAKE_CXX_STANDARD=23 -DNEXUS_BUILD_TESTS=ON
           -DNEXUS_BUILD_EXAMPLES=ON -DNEXUS_BUILD_BENCHMARKS=${BENCHMARKS})
elseif(ENTRY STREQUAL "asan_ubsan")
  # _GLIBCXX_ASSERTIONS adds bounds checks to the std containers the tests
  # use as models.
  set(flags "-fsanitize=address,undefined ${sanitizer_common} -D_GLIBCXX_ASSERTIONS")
  set(args ${common_args} "-DCMAKE_CXX_FLAGS=${flags}"
           "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"
           -DNEXUS_BUILD_TESTS=ON -DNEXUS_BUILD_EXAMPLES=OFF
           -DNEXUS_BUILD_BENCHMARKS=OFF)
  set(test_env
      "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
      "LSAN_OPTIONS=report_objects=1")
elseif(ENTRY STREQUAL "tsan")
  if(NOT TESTS)
    message(STATUS "matrix tsan: no threaded test (TESTS is empty), nothing to do")
    return()
  endif()
  string(REPLACE "," ";" build_targets "${TESTS}")
  list(JOIN build_targets "|" alternatives)
  set(ctest_select -R "^(${alternatives}):")
  set(flags "-fsanitize=thread ${sanitizer_common}")
  set(args ${common_args} "-DCMAKE_CXX_FLAGS=${flags}"
           "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread" -DNEXUS_BUILD_TESTS=ON
           -DNEXUS_BUILD_EXAMPLES=OFF -DNEXUS_BUILD_BENCHMARKS=OFF)
  set(test_env "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
elseif(ENTRY STREQUAL "fuzz")
  # tests/fuzz builds the libFuzzer targets (TESTS) with NEXUS_BUILD_FUZZERS.
  string(REPLACE "," ";" build_targets "${TESTS}")
  set(args ${common_args} -DNEXUS_BUILD_TESTS=ON -DNEXUS_BUILD_FUZZERS=ON
           -DNEXUS_BUILD_EXAMPLES=OFF -DNEXUS_BUILD_BENCHMARKS=OFF)
  set(skip_tests TRUE)
elseif(ENTRY STREQUAL "windows")
  foreach(var CATCH2_HEADER WINE)
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "run.cmake: the windows entry needs -D${var}=...")
    endif()
  endforeach()
  set(source ${SOURCE_DIR}/tests/matrix/windows)
  set(args -DCMAKE_BUILD_TYPE= -DCMAKE_SYSTEM_NAME=Windows
           -DCMAKE_CXX_COMPILER=${CXX} -DNEXUS_SOURCE_DIR=${SOURCE_DIR}
           -DNEXUS_CATCH2_HEADER=${CATCH2_HEADER} -DNEXUS_WINE=${WINE})
  set(ctest_exclude "")
  # Wine keeps its registry in the prefix: a private one per build, made
  # once (the first start takes a while) and reused by every test.
  set(wine_prefix ${WORK_DIR}/wineprefix)
  set(test_env "WINEPREFIX=${wine_prefix}" "WINEDEBUG=-all")
else()
  message(FATAL_ERROR "run.cmake: unknown ENTRY '${ENTRY}'")
endif()

if(NOT KEEP)
  file(REMOVE_RECURSE ${WORK_DIR})
endif()
run_step(${CMAKE_COMMAND} -S ${source} -B ${WORK_DIR} ${args})
if(build_targets)
  run_step(${CMAKE_COMMAND} --build ${WORK_DIR} -j${JOBS} --target ${build_targets})
else()
  run_step(${CMAKE_COMMAND} --build ${WORK_DIR} -j${JOBS})
endif()
if(skip_tests)
  return()
endif()
if(ENTRY STREQUAL "windows" AND NOT EXISTS ${wine_prefix}/system.reg)
  run_step(${CMAKE_COMMAND} -E env ${test_env} ${WINE} wineboot --init)
endif()
set(exclude_args)
if(ctest_exclude)
  set(exclude_args -E "${ctest_exclude}")
endif()
run_step(${CMAKE_COMMAND} -E env ${test_env} ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR}
         --output-on-failure --no-tests=error -j${JOBS} ${ctest_select} ${exclude_args})
