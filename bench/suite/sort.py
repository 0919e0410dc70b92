"""Quicksort of pseudo-random integers (Park-Miller generator), then a checksum (tier 2: arrays).

The same hand-written quicksort as every other language (not list.sort), so
that the engines run one algorithm.
"""


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
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # recurse into the smaller part, loop on the larger one
        if j - lo < hi - i:
            quicksort(a, lo, j)
            lo = i
        else:
            quicksort(a, i, hi)
            hi = j


def main():
    n = 3_000_000
    a = []
    seed = 42
    for _ in range(n):
        seed = seed * 16807 % 2147483647
        a.append(seed)
    quicksort(a, 0, n - 1)
    check = 0
    ordered = True
    for k in range(n):
        check += (a[k] % 1000) * (k % 1000)
        if k > 0 and a[k - 1] > a[k]:
            ordered = False
    print(a[0])
    print(a[n // 2])
    print(a[n - 1])
    print(check)
    print("true" if ordered else "false")


main()
