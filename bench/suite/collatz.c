/* Collatz: the number of steps to reach 1 for every start below a limit (branchy integer code). */
#include <stdio.h>
#include <stdint.h>

static int64_t steps(int64_t n) {
    int64_t count = 0;
    while (n != 1) {
        if (n % 2 == 0)
            n = n / 2;
        else
            n = 3 * n + 1;
        count++;
    }
    return count;
}

int main(void) {
    int64_t total = 0, best = 0, best_start = 1;
    for (int64_t start = 1; start < 1500000; start++) {
        int64_t s = steps(start);
        total += s;
        if (s > best) {
            best = s;
            best_start = start;
        }
    }
    printf("%lld\n%lld\n%lld\n", (long long)total, (long long)best_start, (long long)best);
    return 0;
}
