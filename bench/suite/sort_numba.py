"""Quicksort of pseudo-random integers (Numba, a NumPy int64 array)."""
import sys
import time

import numpy as np
from numba import njit


@njit("void(int64[:], int64, int64)")
def quicksort(a, lo, hi):
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if j - lo < hi - i:
            quicksort(a, lo, j)
            lo = i
        else:
            quicksort(a, i, hi)
            hi = j


@njit("Tuple((int64, int64, int64, int64, boolean))(int64)")
def run(n):
    a = np.empty(n, dtype=np.int64)
    seed = 42
    for k in range(n):
        seed = seed * 16807 % 2147483647
        a[k] = seed
    quicksort(a, 0, n - 1)
    check = 0
    ordered = True
    for k in range(n):
        check += (a[k] % 1000) * (k % 1000)
        if k > 0 and a[k - 1] > a[k]:
            ordered = False
    return a[0], a[n // 2], a[n - 1], check, ordered


t0 = time.perf_counter()
first, mid, last, check, ordered = run(3_000_000)
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(first)
print(mid)
print(last)
print(check)
print("true" if ordered else "false")
