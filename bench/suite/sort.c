/* Quicksort of pseudo-random integers (Park-Miller generator), then a checksum (tier 2: arrays). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void quicksort(int64_t *a, int64_t lo, int64_t hi) {
    while (lo < hi) {
        int64_t pivot = a[(lo + hi) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        /* recurse into the smaller part, loop on the larger one */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

int main(void) {
    const int64_t n = 3000000;
    int64_t *a = malloc(n * sizeof *a);
    if (!a)
        return 1;
    int64_t seed = 42;
    for (int64_t k = 0; k < n; k++) {
        seed = seed * 16807 % 2147483647;
        a[k] = seed;
    }
    quicksort(a, 0, n - 1);
    int64_t check = 0;
    int ordered = 1;
    for (int64_t k = 0; k < n; k++) {
        check += (a[k] % 1000) * (k % 1000);
        if (k > 0 && a[k - 1] > a[k])
            ordered = 0;
    }
    printf("%lld\n%lld\n%lld\n%lld\n%s\n", (long long)a[0], (long long)a[n / 2], (long long)a[n - 1],
           (long long)check, ordered ? "true" : "false");
    free(a);
    return 0;
}
