"""A tight integer loop: multiply, add and remainder by a constant on a dependency chain."""


def main():
    acc = 0
    total = 0
    for i in range(100_000_000):
        acc = (acc * 31 + i) % 1_000_003
        total += acc
    print(total)


main()
