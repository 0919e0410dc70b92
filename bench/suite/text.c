/* Text building: concatenation, number formatting and a substring search. */
#include <stdio.h>
#include <string.h>

int main(void) {
    long long total = 0, hits = 0;
    char line[256];
    for (long long i = 0; i < 1000000; i++) {
        int len = snprintf(line, sizeof line, "item");
        for (long long j = 0; j < 8; j++)
            len += snprintf(line + len, sizeof line - len, ":%lld", i * 8 + j);
        total += len;
        if (strstr(line, "77"))
            hits++;
    }
    printf("%lld\n%lld\n", total, hits);
    return 0;
}
