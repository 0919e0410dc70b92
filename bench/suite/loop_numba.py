"""A tight integer loop (Numba)."""
import sys
import time

from numba import njit


@njit("int64()")
def run():
    acc = 0
    total = 0
    for i in range(100_000_000):
        acc = (acc * 31 + i) % 1_000_003
        total += acc
    return total


t0 = time.perf_counter()
r = run()
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(r)
