/* N-body: the classic five-body planetary simulation in f64 (sqrt, division, many live values). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS_PER_YEAR 365.24
#define NBODIES 5

struct body { double x, y, z, vx, vy, vz, m; };

static struct body bodies[NBODIES] = {
    {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, SOLAR_MASS},
    {4.841431442464721, -1.1603200440274284, -0.10362204447112311,
     0.001660076642744037 * DAYS_PER_YEAR, 0.007699011184197404 * DAYS_PER_YEAR,
     -6.90460016972063e-05 * DAYS_PER_YEAR, 0.0009547919384243266 * SOLAR_MASS},
    {8.34336671824458, 4.124798564124305, -0.4035234171143214,
     -0.002767425107268624 * DAYS_PER_YEAR, 0.004998528012349172 * DAYS_PER_YEAR,
     2.3041729757376393e-05 * DAYS_PER_YEAR, 0.0002858859806661308 * SOLAR_MASS},
    {12.894369562139131, -15.111151401698631, -0.22330757889265573,
     0.002964601375647616 * DAYS_PER_YEAR, 0.0023784717395948095 * DAYS_PER_YEAR,
     -2.9658956854023756e-05 * DAYS_PER_YEAR, 4.366244043351563e-05 * SOLAR_MASS},
    {15.379697114850917, -25.919314609987964, 0.17925877295037118,
     0.0026806777249038932 * DAYS_PER_YEAR, 0.001628241700382423 * DAYS_PER_YEAR,
     -9.515922545197159e-05 * DAYS_PER_YEAR, 5.1513890204661145e-05 * SOLAR_MASS},
};

static void offset_momentum(void) {
    double px = 0.0, py = 0.0, pz = 0.0;
    for (int i = 0; i < NBODIES; i++) {
        px += bodies[i].vx * bodies[i].m;
        py += bodies[i].vy * bodies[i].m;
        pz += bodies[i].vz * bodies[i].m;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static double energy(void) {
    double e = 0.0;
    for (int i = 0; i < NBODIES; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->m * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < NBODIES; j++) {
            struct body *b2 = &bodies[j];
            e -= b->m * b2->m / sqrt((b->x - b2->x) * (b->x - b2->x) + (b->y - b2->y) * (b->y - b2->y)
                                     + (b->z - b2->z) * (b->z - b2->z));
        }
    }
    return e;
}

static void advance(double dt) {
    for (int i = 0; i < NBODIES; i++) {
        struct body *b = &bodies[i];
        for (int j = i + 1; j < NBODIES; j++) {
            struct body *b2 = &bodies[j];
            double dx = b->x - b2->x, dy = b->y - b2->y, dz = b->z - b2->z;
            double d = sqrt(dx * dx + dy * dy + dz * dz);
            double mag = dt / (d * d * d);
            b->vx -= dx * b2->m * mag;
            b->vy -= dy * b2->m * mag;
            b->vz -= dz * b2->m * mag;
            b2->vx += dx * b->m * mag;
            b2->vy += dy * b->m * mag;
            b2->vz += dz * b->m * mag;
        }
    }
    for (int i = 0; i < NBODIES; i++) {
        struct body *b = &bodies[i];
        b->x += dt * b->vx;
        b->y += dt * b->vy;
        b->z += dt * b->vz;
    }
}

int main(void) {
    offset_momentum();
    printf("%lld\n", (long long)(energy() * 1e9));
    for (int64_t step = 0; step < 3000000; step++)
        advance(0.01);
    printf("%lld\n", (long long)(energy() * 1e9));
    return 0;
}
