"""The bulk driver against the machine: sketchbox's bulk updates beside a C reference.

    python benchmarks/bench_bulk_driver.py            # everything
    python benchmarks/bench_bulk_driver.py --quick    # HLL and Theta against C only

Needs gcc (or $CC) and a release build of sketchbox (`pip install '.[bench]'`; an
editable install builds the Rust library in debug mode, some 30x slower).

`c_reference/bulk_reference.c` does the work of sketchbox's HLL and Theta bulk update
(the same MurmurHash3, coupon, register and QuickSelect rules, 256-item chunks that gcc
vectorises, 2 threads filtering against a snapshot, kept items applied in order) in
plain C compiled with `gcc -O3 -march=native`: what this CPU can do. It is compiled
into a temporary directory, and it and sketchbox update from the same 10 M random
int64, in alternating rounds so that both see the same machine load (best round of
each counts). The run checks that both reached the same state: identical HLL_8
registers and an identical Theta (theta and every retained hash). Targets: sketchbox
at >= 80 % of the C reference, >= 40x datasketches-python's update loop (it has no
bulk HLL or Theta update; its loop is timed over 1 M items), and KLL's bulk update
>= 3x datasketches-python's vectorised `kll_doubles_sketch.update(ndarray)`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time

import numpy as np
from _harness import Table, best_of
from bench_hll import ds_loop as ds_hll_loop
from bench_theta import ds_loop as ds_theta_loop
from datasketches import kll_doubles_sketch

from sketchbox import HyperLogLog, KllSketch, ThetaSketch

HERE = os.path.dirname(os.path.abspath(__file__))
C_SOURCE = os.path.join(HERE, "c_reference", "bulk_reference.c")
LG_K = 12
MAX_THETA = (1 << 63) - 1
# HLL images keep their register bytes after a 40-byte preamble; compact Theta images
# in estimation mode their theta at byte 16 and the sorted hashes after byte 24.
HLL_REGISTERS_AT = 40
THETA_AT, THETA_HASHES_AT = 16, 24


def cpu_model() -> str:
    """The CPU's name and the AVX-512 subsets the bulk loops can use."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor() or platform.machine()
    flags = fields.get("flags", "").split()
    wanted = ("avx512f", "avx512dq", "avx512vl", "avx512cd")
    avx512 = ",".join(f[6:] for f in wanted if f in flags) or "none"
    return (
        f"{fields.get('model name', '?')} ({fields.get('vendor_id', '?')}, family "
        f"{fields.get('cpu family', '?')} model {fields.get('model', '?')}), "
        f"{os.cpu_count()} CPUs, AVX-512: {avx512}"
    )


def compile_reference(tmp: str, threads: int) -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or "cc"
    exe = os.path.join(tmp, "bulk_reference")
    cmd = [cc, "-O3", "-march=native", "-pthread", f"-DTHREADS={threads}", "-o", exe, C_SOURCE]
    subprocess.run(cmd, check=True)
    return exe


def run_reference(exe: str, data: str, n: int, repeat: int, tmp: str) -> dict:
    regs, theta = os.path.join(tmp, "regs.bin"), os.path.join(tmp, "theta.bin")
    out = subprocess.run(
        [exe, data, str(n), str(repeat), regs, theta], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout)
    result["registers"] = np.fromfile(regs, dtype=np.uint8)
    state = np.fromfile(theta, dtype=np.uint64)
    result["theta_state"] = (int(state[0]), state[1:])
    return result


def check_same_state(ints: np.ndarray, ref: dict) -> None:
    """Raises unless sketchbox reaches exactly the C reference's state on the same input."""
    h = HyperLogLog(LG_K, "HLL_8")
    h.update(ints)
    image = h.to_bytes(compact=False)
    ours = np.frombuffer(image, np.uint8, 1 << LG_K, HLL_REGISTERS_AT)
    if not np.array_equal(ours, ref["registers"]):
        raise SystemExit("HLL registers differ from the C reference's")
    t = ThetaSketch(LG_K)
    t.update(ints)
    image = t.to_bytes()
    theta = int.from_bytes(image[THETA_AT : THETA_AT + 8], "little")
    hashes = np.frombuffer(image, np.uint64, offset=THETA_HASHES_AT)
    ref_theta, ref_hashes = ref["theta_state"]
    if theta != ref_theta or not np.array_equal(hashes, ref_hashes):
        raise SystemExit("Theta sketch (theta or retained hashes) differs from the C reference's")
    if abs(t.estimate() / ref["theta_estimate"] - 1) > 1e-12:
        raise SystemExit("Theta estimate differs from the C reference's")
    print(
        f"same state as the C reference: {1 << LG_K} HLL_8 registers identical; Theta theta "
        f"{theta / MAX_THETA:.6g} and {len(hashes)} retained hashes identical "
        f"(estimate {t.estimate():,.1f}); HLL estimate {h.estimate():,.1f} "
        f"(C's HIP {ref['hll_estimate_hip']:,.1f}: no LIST/SET phase there)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="HLL and Theta against C only")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (best counts)")
    ap.add_argument("--items", type=int, default=10_000_000)
    ap.add_argument(
        "--one-thread-cpu",
        action="store_true",
        help="one thread each, rates per CPU second: steadier on a loaded machine",
    )
    args = ap.parse_args()
    n = args.items
    threads = 2
    clock = time.perf_counter
    if args.one_thread_cpu:
        # Read when sketchbox first starts its pool: it then works on the calling thread,
        # whose CPU time thread_time() measures.
        os.environ["RAYON_NUM_THREADS"] = "1"
        threads, clock = 1, time.thread_time

    print(f"CPU: {cpu_model()}")
    rng = np.random.default_rng(42)
    ints = rng.integers(0, 2**62, n)

    with tempfile.TemporaryDirectory() as tmp:
        exe = compile_reference(tmp, threads)
        data = os.path.join(tmp, "ints.bin")
        ints.tofile(data)
        best = {"c_hll": 0.0, "c_theta": 0.0, "hll": float("inf"), "theta": float("inf")}
        ref: dict = {}
        # Alternate C and sketchbox so that a burst of load elsewhere hits both.
        for _ in range(args.rounds):
            ref = run_reference(exe, data, n, 3, tmp)
            per = "items_per_cpu_s" if args.one_thread_cpu else "items_per_s"
            best["c_hll"] = max(best["c_hll"], ref[f"hll_{per}"])
            best["c_theta"] = max(best["c_theta"], ref[f"theta_{per}"])
            hll = best_of(lambda: HyperLogLog(LG_K).update(ints), clock=clock)
            theta = best_of(lambda: ThetaSketch(LG_K).update(ints), clock=clock)
            best["hll"], best["theta"] = min(best["hll"], hll), min(best["theta"], theta)
        print(f"C reference: {ref['isa']} build, {ref['threads']} threads")
        check_same_state(ints, ref)

    how = "1 thread, per CPU second" if args.one_thread_cpu else f"{threads} threads"
    t = Table(f"Bulk driver: {n / 1e6:g} M random int64, lg_k {LG_K}, {how}")
    c_hll_s, c_theta_s = n / best["c_hll"], n / best["c_theta"]
    r_hll = t.rate("HLL_8 update", best["hll"], n, "C reference", c_hll_s, n, 0.8)
    r_theta = t.rate("Theta update", best["theta"], n, "C reference", c_theta_s, n, 0.8)
    if not args.quick:
        sample = ints[:1_000_000].tolist()
        peer = best_of(lambda: ds_hll_loop(sample, LG_K), repeat=2)
        t.rate("HLL_8 update", best["hll"], n, "datasketches loop (1 M)", peer, 1e6, 40)
        peer = best_of(lambda: ds_theta_loop(sample, LG_K), repeat=2)
        t.rate("Theta update", best["theta"], n, "datasketches loop (1 M)", peer, 1e6, 40)
        x = rng.normal(size=n)
        ours = best_of(lambda: KllSketch(200).update(x), repeat=5)
        peer = best_of(lambda: kll_doubles_sketch(200).update(x), repeat=5)
        t.rate("KLL update (k 200)", ours, n, "datasketches update(ndarray)", peer, n, 3)
    t.print()
    if r_hll < 0.1:
        print("\n(far below the C reference: is sketchbox a release build? `pip install .`)")
    print(f"\nsketchbox / C reference: HLL {r_hll:.1%}, Theta {r_theta:.1%} (target >= 80 %)")


if __name__ == "__main__":
    main()
