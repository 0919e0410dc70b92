/* Sieve of Eratosthenes: an array of flags, strided stores (tier 2: arrays). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const int64_t limit = 80000000;
    bool *composite = calloc(limit + 1, sizeof *composite);
    if (!composite)
        return 1;
    int64_t count = 0, sum = 0;
    for (int64_t p = 2; p <= limit; p++) {
        if (!composite[p]) {
            count++;
            sum += p;
            for (int64_t m = p * p; m <= limit; m += p)
                composite[m] = true;
        }
    }
    printf("%lld\n%lld\n", (long long)count, (long long)sum);
    free(composite);
    return 0;
}
