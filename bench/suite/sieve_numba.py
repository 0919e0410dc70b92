"""Sieve of Eratosthenes (Numba, flags in a NumPy bool array)."""
import sys
import time

import numpy as np
from numba import njit


@njit("UniTuple(int64, 2)(int64)")
def run(limit):
    composite = np.zeros(limit + 1, dtype=np.bool_)
    count = 0
    total = 0
    for p in range(2, limit + 1):
        if not composite[p]:
            count += 1
            total += p
            for m in range(p * p, limit + 1, p):
                composite[m] = True
    return count, total


t0 = time.perf_counter()
count, total = run(80_000_000)
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(count)
print(total)
