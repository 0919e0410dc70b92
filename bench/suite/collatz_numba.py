"""Collatz (Numba)."""
import sys
import time

from numba import njit


@njit("int64(int64)")
def steps(n):
    count = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        count += 1
    return count


@njit("UniTuple(int64, 3)()")
def run():
    total = 0
    best = 0
    best_start = 1
    for start in range(1, 1_500_000):
        s = steps(start)
        total += s
        if s > best:
            best = s
            best_start = start
    return total, best_start, best


t0 = time.perf_counter()
total, best_start, best = run()
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(total)
print(best_start)
print(best)
