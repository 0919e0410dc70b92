"""Sieve of Eratosthenes: an array of flags, strided stores (tier 2: arrays)."""


def main():
    limit = 80_000_000
    composite = [False] * (limit + 1)
    count = 0
    total = 0
    for p in range(2, limit + 1):
        if not composite[p]:
            count += 1
            total += p
            for m in range(p * p, limit + 1, p):
                composite[m] = True
    print(count)
    print(total)


main()
