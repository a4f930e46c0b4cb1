#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Writes the seed corpus of the fuzzers: tests/fuzz/corpus/<name>/*.bin.

Deterministic (fixed seeds): re-running it reproduces the same files. Each
fuzzer gets random inputs of several sizes plus a few structured ones that
reach deep states quickly (full slabs; lists with sublayers attached, then
emptied again). Usage: python3 tests/fuzz/make_corpus.py [OUTPUT_DIR]
"""
import os
import random
import sys


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(bytes(data))


def random_inputs(rng, count, sizes):
    for i in range(count):
        size = sizes[i % len(sizes)]
        yield [rng.randrange(256) for _ in range(size)]


def slab_corpus(out, rng):
    for i, data in enumerate(random_inputs(rng, 24, [8, 32, 128, 512, 2048])):
        write(out, "random_%02d.bin" % i, data)
    # Allocate, fill to full (op 8 with the high bit), then churn.
    for cap in (1, 17, 47):
        data = [2, cap, 8 | 0x80]
        for j in range(300):
            data += [[4, 5, 0, 1, 3 | 0x40, 6, 10][j % 7], rng.randrange(256)]
        write(out, "fill_churn_%02d.bin" % cap, data)
    # Unallocated slab: every insert form must report "full".
    write(out, "unallocated.bin", [0] + [0, 1, 2, 3, 8 | 0x80, 10] * 4)
    # alloc_bytes then inserts past full, clear, refill.
    write(out, "alloc_bytes.bin", [1, 2] + [0] * 80 + [7, 10] + [2] * 40 + [10])


def list_corpus(out, rng, bulk_op, ops):
    for i, data in enumerate(random_inputs(rng, 24, [16, 64, 256, 512, 1024])):
        write(out, "random_%02d.bin" % i, data)
    # Bulk inserts until sublayers attach, then erase everything again.
    for config in (0x00, 0x05, 0x1F, 0x80):
        for elem in (0, 1):
            data = [config, elem, 3]
            for _ in range(12):
                data += [bulk_op, 255, rng.randrange(256), rng.randrange(256),
                         1 + rng.randrange(4)]
            for _ in range(200):
                op = rng.choice(ops)
                data += [op] + [rng.randrange(256) for _ in range(3)]
            write(out, "deep_%02x_%d.bin" % (config, elem), data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    slab_corpus(os.path.join(root, "slab"), random.Random(1))
    # slab_list ops: 2 = bulk insert; erase key/nth/range, pop, erase_if, ...
    list_corpus(os.path.join(root, "slab_list"), random.Random(2), 2,
                [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
    # ordered list ops: 6 = bulk push; inserts, erases, sort, reverse, ...
    list_corpus(os.path.join(root, "ordered_list"), random.Random(3), 6,
                [3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19])


if __name__ == "__main__":
    main()
