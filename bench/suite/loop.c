/* A tight integer loop: multiply, add and remainder by a constant on a dependency chain. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
    int64_t acc = 0, sum = 0;
    for (int64_t i = 0; i < 100000000; i++) {
        acc = (acc * 31 + i) % 1000003;
        sum += acc;
    }
    printf("%lld\n", (long long)sum);
    return 0;
}
