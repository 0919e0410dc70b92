"""Recursive Fibonacci: call overhead and integer arithmetic (Numba)."""
import sys
import time

from numba import njit


@njit("int64(int64)", cache=False)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


t0 = time.perf_counter()
r = fib(41)
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(r)
