# SPDX-License-Identifier: MIT OR Apache-2.0
# Runs one libFuzzer executable for a bounded time and prints how many
# inputs it executed (each input decodes into many container operations).
# Usage: cmake -DFUZZER=<exe> -DSEEDS=<seed corpus dir> -DCORPUS=<work dir>
#              [-DSECONDS=60] -P fuzz_run.cmake
# The environment variable NEXUS_FUZZ_SECONDS overrides SECONDS.
cmake_minimum_required(VERSION 3.21)

if(DEFINED ENV{NEXUS_FUZZ_SECONDS})
  set(SECONDS $ENV{NEXUS_FUZZ_SECONDS})
elseif(NOT DEFINED SECONDS)
  set(SECONDS 60)
endif()
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "fuzzer ${FUZZER} was not built (fuzz:build failed?)")
endif()
# New inputs go to the work corpus; the checked-in seeds are only read.
file(MAKE_DIRECTORY ${CORPUS})
set(corpora ${CORPUS})
if(IS_DIRECTORY ${SEEDS})
  list(APPEND corpora ${SEEDS})
else()
  message(STATUS "no seed corpus at ${SEEDS}: starting from nothing")
endif()
get_filename_component(name ${FUZZER} NAME)
get_filename_component(artifacts ${CORPUS}/../artifacts ABSOLUTE)
file(MAKE_DIRECTORY ${artifacts})
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1
          -artifact_prefix=${artifacts}/${name}- ${corpora}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" units "${out}")
string(REGEX MATCH "#[0-9]+[\t ]+DONE[^\n]*" done "${out}")
if(NOT result EQUAL 0)
  # The crash report and the reproducer's path are at the end of the output.
  string(LENGTH "${out}" length)
  if(length GREATER 20000)
    math(EXPR start "${length} - 20000")
    string(SUBSTRING "${out}" ${start} -1 out)
  endif()
  message("${out}")
  message(FATAL_ERROR "${name} failed (${result}) after ${SECONDS} s; "
                      "reproduce with: ${FUZZER} <artifact in ${artifacts}>")
endif()
string(REGEX REPLACE "[^0-9]*([0-9]+)$" "\\1" executed "${units}")
message(STATUS "${name}: ${SECONDS} s, ${done}")
set(summary "nexus-fuzz: ${name} executed_units=${executed} seconds=${SECONDS} result=ok")
message("${summary}")
# CTest hides a passing test's output: keep the count next to the corpus too.
file(WRITE ${CORPUS}/../${name}.summary "${summary}\n")
