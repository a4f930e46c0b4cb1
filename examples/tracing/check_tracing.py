#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""CTest checks of the USDT probes (registered by examples/tracing/CMakeLists.txt).

  check_tracing.py notes    BINARY HEADER  every probe documented in HEADER's
                                           table is in BINARY's stapsdt notes,
                                           and no other nexus probe is
  check_tracing.py no-notes BINARY         BINARY has no stapsdt notes at all
  check_tracing.py counts   BINARY         under bpftrace, probe firings equal
                                           the counts BINARY prints
  check_tracing.py script   BINARY SCRIPT  a shipped .bt script prints data
                                           lines while BINARY runs

Exit codes: 0 pass, 1 fail, 77 skipped (the reason is printed). bpftrace
checks need Linux, root and a kernel that lets bpftrace attach uprobes.
Python 3 standard library only.
"""
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
BPFTRACE_TIMEOUT = 120  # seconds; bpftrace takes a few to attach

# Probes whose firings the workload can predict, and how to total them:
# sum(1) counts firings, sum(argN) totals events batching several.
COUNTED = {
    "slab_insert": "sum(1)",
    "slab_remove": "sum(1)",
    "slab_full": "sum(1)",
    "list_add": "sum(1)",
    "list_remove": "sum(1)",
    "list_spill": "sum(1)",
    "list_ripple": "sum(1)",
    "list_merge": "sum(1)",
    "list_reap": "sum(1)",
    "list_slab_create": "sum(1)",
    "list_slab_free": "sum(arg3)",
    "list_sublayer_attach": "sum(1)",
    "list_sublayer_detach": "sum(1)",
    "list_invariant_failed": "sum(1)",
}


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def fail(reason):
    print(f"FAIL: {reason}")
    sys.exit(1)


def readelf_probes(binary):
    """(provider, name) of every stapsdt note in binary."""
    readelf = shutil.which("readelf")
    if readelf is None:
        skip("readelf not found (Debian: binutils)")
    out = subprocess.run([readelf, "-n", binary], check=True,
                         capture_output=True, text=True).stdout
    probes = set()
    provider = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Provider:"):
            provider = line.split(":", 1)[1].strip()
        elif line.startswith("Name:") and provider is not None:
            probes.add((provider, line.split(":", 1)[1].strip()))
            provider = None
    return probes, out.count("stapsdt")


def documented_probes(header):
    """Probe names in the table at the top of nexus/detail/probes.hpp."""
    names = set()
    with open(header, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^//\s*\|\s*([a-z_]+)\s*\|", line)
            if m and m.group(1) != "probe":
                names.add(m.group(1))
    if not names:
        fail(f"no probe table found in {header}")
    return names


def check_notes(binary, header):
    documented = documented_probes(header)
    probes, _ = readelf_probes(binary)
    found = {name for provider, name in probes if provider == "nexus"}
    missing = sorted(documented - found)
    extra = sorted(found - documented)
    print(f"{len(documented)} documented probes, {len(found)} in {binary}")
    if missing:
        fail(f"documented but not in the binary: {', '.join(missing)}")
    if extra:
        fail(f"in the binary but not documented: {', '.join(extra)}")
    print("every documented probe is in the binary's stapsdt notes")


def check_no_notes(binary):
    probes, mentions = readelf_probes(binary)
    if probes or mentions:
        fail(f"{binary} has stapsdt notes: {sorted(probes)}")
    print(f"{binary} has no stapsdt notes")


def bpftrace_or_skip():
    if not sys.platform.startswith("linux"):
        skip("bpftrace checks run on Linux only")
    if os.geteuid() != 0:
        skip("bpftrace needs root")
    bpftrace = shutil.which("bpftrace")
    if bpftrace is None:
        skip("bpftrace not found (Debian: bpftrace)")
    # Containers and locked-down kernels refuse BPF: tell that apart from a
    # real failure before running the check.
    try:
        r = subprocess.run([bpftrace, "-e", 'BEGIN { printf("ready\\n"); exit(); }'],
                           capture_output=True, text=True,
                           timeout=BPFTRACE_TIMEOUT)
    except subprocess.TimeoutExpired:
        skip("bpftrace did not start in time")
    if "ready" not in r.stdout:
        skip(f"bpftrace cannot run BPF programs here: {r.stderr.strip()[:300]}")
    return bpftrace


def run_bpftrace(args):
    try:
        r = subprocess.run(args, capture_output=True, text=True,
                           timeout=BPFTRACE_TIMEOUT)
    except subprocess.TimeoutExpired:
        fail(f"bpftrace did not finish within {BPFTRACE_TIMEOUT} s")
    return r


def check_counts(binary):
    bpftrace = bpftrace_or_skip()
    program = " ".join(
        f'usdt:$1:nexus:{name} {{ @c["{name}"] = {agg}; }}'
        for name, agg in COUNTED.items())
    binary = os.path.abspath(binary)
    r = run_bpftrace([bpftrace, "-e", program, "-c", binary, binary])
    expected = dict(re.findall(r"^count (\w+) (\d+)$", r.stdout, re.M))
    seen = dict(re.findall(r"^@c\[(\w+)\]: (\d+)$", r.stdout, re.M))
    if not expected:
        fail(f"the workload printed no counts:\n{r.stdout}\n{r.stderr}")
    bad = []
    for name in COUNTED:
        want = int(expected.get(name, -1))
        got = int(seen.get(name, 0))
        print(f"{name:22} workload {want:8}  bpftrace {got:8}")
        if want != got or want <= 0:
            bad.append(name)
    if bad:
        fail(f"bpftrace and the workload disagree on: {', '.join(bad)}\n"
             f"{r.stderr[-2000:]}")
    print("every probe fired exactly as often as the workload says")


def check_script(binary, script):
    bpftrace = bpftrace_or_skip()
    binary = os.path.abspath(binary)
    r = run_bpftrace([bpftrace, "-c", f"{binary} --seconds 3", script, binary])
    # Data lines of throughput_plus_heap.bt: five numbers.
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$",
                      r.stdout, re.M)
    print(r.stdout)
    if not rows:
        fail(f"{script} printed no data lines\n{r.stderr[-2000:]}")
    if not any(int(row[1]) > 0 for row in rows):
        fail(f"{script} saw no operations")
    if not any(int(row[4]) > 0 for row in rows):
        fail(f"{script} saw no mapped bytes")
    print(f"{script} printed {len(rows)} data lines")


def main(argv):
    if len(argv) >= 3 and argv[1] == "notes" and len(argv) == 4:
        check_notes(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "no-notes":
        check_no_notes(argv[2])
    elif len(argv) == 3 and argv[1] == "counts":
        check_counts(argv[2])
    elif len(argv) == 4 and argv[1] == "script":
        check_script(argv[2], argv[3])
    elif len(argv) == 2 and argv[1] == "no-sdt":
        skip("<sys/sdt.h> not found (Debian: systemtap-sdt-dev): probes are "
             "compiled out everywhere")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
