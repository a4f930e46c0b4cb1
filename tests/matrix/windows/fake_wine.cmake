# SPDX-License-Identifier: MIT OR Apache-2.0
# A stand-in for wine in the tests of wine_run.cmake (tests/matrix):
#   cmake -DMODE=<mode> -DMARKER=<file> -P fake_wine.cmake
# MODE pass: exits 0. fail: prints a test's failure and exits non-zero.
# lost_once: the first run (no MARKER yet) prints wine's lost-server error
# and exits non-zero, later runs pass. lost_always: every run does.
cmake_minimum_required(VERSION 3.21)
set(lost "wine client error:0: recvmsg: Connection reset by peer")
if(MODE STREQUAL "pass")
  message(NOTICE "All tests passed")
elseif(MODE STREQUAL "fail")
  message(FATAL_ERROR "test cases: 1 | 1 failed")
elseif(MODE STREQUAL "lost_once")
  if(EXISTS ${MARKER})
    message(NOTICE "All tests passed")
  else()
    file(WRITE ${MARKER} "")
    message(FATAL_ERROR "${lost}")
  endif()
elseif(MODE STREQUAL "lost_always")
  message(FATAL_ERROR "${lost}")
else()
  message(FATAL_ERROR "fake_wine.cmake: unknown MODE '${MODE}'")
endif()
