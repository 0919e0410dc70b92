"""Collatz: the number of steps to reach 1 for every start below a limit (branchy integer code)."""


def steps(n):
    count = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        count += 1
    return count


def main():
    total = 0
    best = 0
    best_start = 1
    for start in range(1, 1_500_000):
        s = steps(start)
        total += s
        if s > best:
            best = s
            best_start = start
    print(total)
    print(best_start)
    print(best)


main()
