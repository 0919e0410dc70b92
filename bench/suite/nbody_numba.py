"""N-body (Numba, bodies in a NumPy array: one row of x, y, z, vx, vy, vz, m per body)."""
import sys
import time
from math import sqrt

import numpy as np
from numba import njit

PI = 3.141592653589793
SOLAR_MASS = 4.0 * PI * PI
DAYS_PER_YEAR = 365.24


def body(x, y, z, vx, vy, vz, m):
    return [x, y, z, vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR, vz * DAYS_PER_YEAR, m * SOLAR_MASS]


BODIES = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, SOLAR_MASS],
    body(4.841431442464721, -1.1603200440274284, -0.10362204447112311,
         0.001660076642744037, 0.007699011184197404, -6.90460016972063e-05, 0.0009547919384243266),
    body(8.34336671824458, 4.124798564124305, -0.4035234171143214,
         -0.002767425107268624, 0.004998528012349172, 2.3041729757376393e-05, 0.0002858859806661308),
    body(12.894369562139131, -15.111151401698631, -0.22330757889265573,
         0.002964601375647616, 0.0023784717395948095, -2.9658956854023756e-05, 4.366244043351563e-05),
    body(15.379697114850917, -25.919314609987964, 0.17925877295037118,
         0.0026806777249038932, 0.001628241700382423, -9.515922545197159e-05, 5.1513890204661145e-05),
])


@njit("void(float64[:, :])")
def offset_momentum(b):
    px = py = pz = 0.0
    for i in range(b.shape[0]):
        px += b[i, 3] * b[i, 6]
        py += b[i, 4] * b[i, 6]
        pz += b[i, 5] * b[i, 6]
    b[0, 3] = -px / SOLAR_MASS
    b[0, 4] = -py / SOLAR_MASS
    b[0, 5] = -pz / SOLAR_MASS


@njit("float64(float64[:, :])")
def energy(b):
    e = 0.0
    n = b.shape[0]
    for i in range(n):
        e += 0.5 * b[i, 6] * (b[i, 3] * b[i, 3] + b[i, 4] * b[i, 4] + b[i, 5] * b[i, 5])
        for j in range(i + 1, n):
            e -= b[i, 6] * b[j, 6] / sqrt((b[i, 0] - b[j, 0]) * (b[i, 0] - b[j, 0])
                                          + (b[i, 1] - b[j, 1]) * (b[i, 1] - b[j, 1])
                                          + (b[i, 2] - b[j, 2]) * (b[i, 2] - b[j, 2]))
    return e


@njit("void(float64[:, :], float64, int64)")
def advance(b, dt, steps):
    n = b.shape[0]
    for _ in range(steps):
        for i in range(n):
            for j in range(i + 1, n):
                dx = b[i, 0] - b[j, 0]
                dy = b[i, 1] - b[j, 1]
                dz = b[i, 2] - b[j, 2]
                d = sqrt(dx * dx + dy * dy + dz * dz)
                mag = dt / (d * d * d)
                b[i, 3] -= dx * b[j, 6] * mag
                b[i, 4] -= dy * b[j, 6] * mag
                b[i, 5] -= dz * b[j, 6] * mag
                b[j, 3] += dx * b[i, 6] * mag
                b[j, 4] += dy * b[i, 6] * mag
                b[j, 5] += dz * b[i, 6] * mag
        for i in range(n):
            b[i, 0] += dt * b[i, 3]
            b[i, 1] += dt * b[i, 4]
            b[i, 2] += dt * b[i, 5]


t0 = time.perf_counter()
offset_momentum(BODIES)
before = int(energy(BODIES) * 1e9)
advance(BODIES, 0.01, 3_000_000)
after = int(energy(BODIES) * 1e9)
print(f"run-time: {time.perf_counter() - t0:.6f}", file=sys.stderr)
print(before)
print(after)
