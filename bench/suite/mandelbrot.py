"""Mandelbrot: escape-time iteration in f64 over a grid; the checksum is the total iteration count."""


def escape(cr, ci, limit):
    zr = 0.0
    zi = 0.0
    i = 0
    while i < limit and zr * zr + zi * zi <= 4.0:
        t = zr * zr - zi * zi + cr
        zi = 2.0 * zr * zi + ci
        zr = t
        i += 1
    return i


def main():
    size = 1600
    total = 0
    inside = 0
    for y in range(size):
        ci = float(y) * 2.4 / float(size) - 1.2
        for x in range(size):
            cr = float(x) * 3.0 / float(size) - 2.2
            n = escape(cr, ci, 200)
            total += n
            if n == 200:
                inside += 1
    print(total)
    print(inside)


main()
