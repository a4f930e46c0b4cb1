// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: USDT tracing probes (provider `nexus`), DTrace-compatible.
//
// NEXUS_PROBE(name, args...) places a static probe `nexus:name` through
// <sys/sdt.h> (Debian: systemtap-sdt-dev; the same DTRACE_PROBEn macros exist
// on illumos, FreeBSD and macOS). Probes are compiled in only when
// NEXUS_ENABLE_PROBES is defined (and <sys/sdt.h> exists); otherwise the
// macro expands to a no-op that does not evaluate its arguments, so the code
// generated for the hot path is unchanged. An enabled but unattached probe
// costs one `nop` plus keeping its arguments in registers or memory.
//
// Consumers enable the probes by defining NEXUS_ENABLE_PROBES before
// including any nexus header (e.g. `-DNEXUS_ENABLE_PROBES`, or
// `target_compile_definitions(app PRIVATE NEXUS_ENABLE_PROBES)`); the CMake
// option of the same name does so only for this project's own programs.
// Define it the same way in every translation unit of a program (the
// headers are inline code; mixing is an ODR violation).
//
// Every probe, its arguments (arg0, arg1, ... in bpftrace) and when it fires.
// `list` probes fire for nexus::slab_list (sorted or insertion-ordered) and
// nexus::slab_multilist alike.
// `name` is slab_list_options::name (a C string; `str(arg1)` in bpftrace).
//
// | probe                 | arguments                    | fires when         |
// |-----------------------|------------------------------|--------------------|
// | slab_alloc            | slab*, capacity, bytes       | alloc*() mapped    |
// | slab_free             | slab*, capacity, bytes       | block released     |
// | slab_mlock            | slab*, bytes, errno (0 = ok) | mlock() returns    |
// | slab_munlock          | slab*, bytes, errno (0 = ok) | munlock() returns  |
// | slab_insert           | slab*, key, size             | element inserted   |
// | slab_remove           | slab*, key, size             | element removed    |
// | slab_full             | slab*, capacity              | insert refused     |
// | slab_invariant_failed | slab*, what                  | check_invariants() |
// |                       |                              | found a violation  |
// | region_map            | region*, address, bytes      | block mapped       |
// | region_unmap          | region*, address, bytes      | block unmapped     |
// | list_add              | list*, name, size, fill, cap | element inserted   |
// | list_remove           | list*, name, size, n, fill   | n elements erased  |
// | list_oom              | list*, name, size            | insert failed: the |
// |                       |                              | region refused mem |
// | list_slab_create      | list*, name, slabs           | slab added         |
// | list_slab_free        | list*, name, slabs, n        | n slabs freed      |
// | list_spill            | list*, name, fill, fill2     | full slab spilled  |
// |                       |                              | into a neighbour   |
// | list_ripple           | list*, name, window, added   | window of slabs    |
// |                       |                              | redistributed      |
// | list_merge            | list*, name, slabs           | erase merged two   |
// |                       |                              | neighbouring slabs |
// | list_reap             | list*, name, before, after   | compaction packed  |
// |                       |                              | slabs              |
// | list_sublayer_attach  | list*, name, layers, slabs   | sublayer(s) added  |
// | list_sublayer_detach  | list*, name, layers, slabs   | sublayer(s) gone   |
// | list_invariant_failed | list*, name, what            | check_invariants() |
// |                       |                              | found a violation  |
//
// Arguments. slab*, list*, region*: the object's address (pair a region's
// map and unmap by the block address, since regions move). name:
// slab_list_options::name. key: the slot index. size, slabs, layers: the count
// after the event. bytes: bytes of the block. list_add: fill = elements now in
// the slab that got the element, cap = that slab's capacity (the small-list
// buffer's in small-list mode). list_remove: fill = elements left in the slab
// (0 for bulk erasures: remove_if, clear). list_slab_free: n slabs freed at
// once (1, or all of them on clear / repack / going back to small-list mode).
// list_spill: fill = elements in the slab that was full, fill2 = in its
// neighbour, both after the insert. list_ripple: window = slabs redistributed,
// added = 1 if a slab was added to the window. list_reap: slab counts before
// and after. what: the broken invariant as text. Sublayers are attached when
// the slab count passes sublayer_threshold or the root splits, detached below
// half of it or when the root collapses (and temporarily during bulk
// operations).
//
// "Ripple": when an insert hits a full slab and neither neighbour has room
// for a spill, the list redistributes a window of up to 32 neighbouring
// slabs so every slab in it gets the same fill, adding one slab only when
// the window is nearly full; elements thus ripple across several slabs.
// Counts are integers (size_t, except errno, window and added: int).
#pragma once

#if defined(NEXUS_ENABLE_PROBES) && defined(__has_include)
#if __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define NEXUS_PROBES_ACTIVE 1
#endif
#endif

#ifndef NEXUS_PROBES_ACTIVE
#define NEXUS_PROBES_ACTIVE 0
#endif

#if NEXUS_PROBES_ACTIVE

// Picks NEXUS_PROBE_<n> by the number of arguments after the name.
#define NEXUS_PROBE_NARGS_(...) \
  NEXUS_PROBE_NARGS_PICK_(__VA_ARGS__ __VA_OPT__(, ) 6, 5, 4, 3, 2, 1, 0, x)
#define NEXUS_PROBE_NARGS_PICK_(a1, a2, a3, a4, a5, a6, n, ...) n
#define NEXUS_PROBE_CAT_(a, b) NEXUS_PROBE_CAT2_(a, b)
#define NEXUS_PROBE_CAT2_(a, b) a##b

#define NEXUS_PROBE_0(name) DTRACE_PROBE(nexus, name)
#define NEXUS_PROBE_1(name, a) DTRACE_PROBE1(nexus, name, a)
#define NEXUS_PROBE_2(name, a, b) DTRACE_PROBE2(nexus, name, a, b)
#define NEXUS_PROBE_3(name, a, b, c) DTRACE_PROBE3(nexus, name, a, b, c)
#define NEXUS_PROBE_4(name, a, b, c, d) DTRACE_PROBE4(nexus, name, a, b, c, d)
#define NEXUS_PROBE_5(name, a, b, c, d, e) \
  DTRACE_PROBE5(nexus, name, a, b, c, d, e)
#define NEXUS_PROBE_6(name, a, b, c, d, e, f) \
  DTRACE_PROBE6(nexus, name, a, b, c, d, e, f)

// NEXUS_PROBE(name[, arg0, ..., arg5]): fires USDT probe nexus:name.
#define NEXUS_PROBE(name, ...)                                    \
  NEXUS_PROBE_CAT_(NEXUS_PROBE_, NEXUS_PROBE_NARGS_(__VA_ARGS__)) \
  (name __VA_OPT__(, ) __VA_ARGS__)

#else

namespace nexus::detail {
// Never defined: only named inside sizeof, so probe arguments stay
// type-checked and "used" (no unused-variable warnings) but unevaluated.
template <class... Args>
int probe_args_unevaluated(const Args&...) noexcept;
}  // namespace nexus::detail

// Probes off: nothing is evaluated and no code is generated.
#define NEXUS_PROBE(name, ...) \
  static_cast<void>(           \
      sizeof(::nexus::detail::probe_args_unevaluated(__VA_ARGS__)))

#endif
