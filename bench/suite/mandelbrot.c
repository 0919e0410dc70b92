/* Mandelbrot: escape-time iteration in f64 over a grid; the checksum is the total iteration count. */
#include <stdio.h>
#include <stdint.h>

static int64_t escape(double cr, double ci, int64_t limit) {
    double zr = 0.0, zi = 0.0;
    int64_t i = 0;
    while (i < limit && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        i++;
    }
    return i;
}

int main(void) {
    const int64_t size = 1600;
    int64_t total = 0, inside = 0;
    for (int64_t y = 0; y < size; y++) {
        double ci = (double)y * 2.4 / (double)size - 1.2;
        for (int64_t x = 0; x < size; x++) {
            double cr = (double)x * 3.0 / (double)size - 2.2;
            int64_t n = escape(cr, ci, 200);
            total += n;
            if (n == 200)
                inside++;
        }
    }
    printf("%lld\n%lld\n", (long long)total, (long long)inside);
    return 0;
}
