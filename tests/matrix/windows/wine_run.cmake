# SPDX-License-Identifier: MIT OR Apache-2.0
# CTest's emulator for the Windows tests: runs one test executable under wine
# and, when wine itself failed to reach its server, runs it once more.
#   cmake -DNEXUS_WINE=wine -P wine_run.cmake -- <test.exe> [args...]
# Now and then a wine process started while others come and go dies at
# once with "wine client error:0: recvmsg: Connection reset by peer" before
# the test runs a line (seen once, in session 18's CI, in a test that
# passed when run again). That is wine, not the test, so only a failure
# whose output carries that signature is retried; any other failure, or a
# second one, is the test's and fails it.
cmake_minimum_required(VERSION 3.21)

if(NOT NEXUS_WINE)
  message(FATAL_ERROR "wine_run.cmake: -DNEXUS_WINE=... is required")
endif()

# The command is everything after "--".
set(command)
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_dashes)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "wine_run.cmake: no command after --")
endif()

set(wine_lost_its_server "wine client error:[0-9]*: ")
foreach(attempt 1 2)
  execute_process(COMMAND ${NEXUS_WINE} ${command} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  # Passed through as they came (stdout to stdout, stderr to stderr).
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo_append "${out}")
  if(err)
    message(NOTICE "${err}")
  endif()
  if(rc EQUAL 0)
    return()
  endif()
  if(attempt EQUAL 1 AND "${out}${err}" MATCHES "${wine_lost_its_server}")
    message(NOTICE "wine_run.cmake: wine lost its server (above); running the test again")
    continue()
  endif()
  message(FATAL_ERROR "wine_run.cmake: exit status ${rc}")
endforeach()
