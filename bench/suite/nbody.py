"""N-body: the classic five-body planetary simulation in f64 (sqrt, division, many live values)."""
from math import sqrt

PI = 3.141592653589793
SOLAR_MASS = 4.0 * PI * PI
DAYS_PER_YEAR = 365.24


def body(x, y, z, vx, vy, vz, m):
    # [x, y, z, vx, vy, vz, m]
    return [x, y, z, vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR, vz * DAYS_PER_YEAR, m * SOLAR_MASS]


BODIES = [
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, SOLAR_MASS],
    body(4.841431442464721, -1.1603200440274284, -0.10362204447112311,
         0.001660076642744037, 0.007699011184197404, -6.90460016972063e-05, 0.0009547919384243266),
    body(8.34336671824458, 4.124798564124305, -0.4035234171143214,
         -0.002767425107268624, 0.004998528012349172, 2.3041729757376393e-05, 0.0002858859806661308),
    body(12.894369562139131, -15.111151401698631, -0.22330757889265573,
         0.002964601375647616, 0.0023784717395948095, -2.9658956854023756e-05, 4.366244043351563e-05),
    body(15.379697114850917, -25.919314609987964, 0.17925877295037118,
         0.0026806777249038932, 0.001628241700382423, -9.515922545197159e-05, 5.1513890204661145e-05),
]
PAIRS = [(BODIES[i], BODIES[j]) for i in range(len(BODIES)) for j in range(i + 1, len(BODIES))]


def offset_momentum():
    px = py = pz = 0.0
    for b in BODIES:
        px += b[3] * b[6]
        py += b[4] * b[6]
        pz += b[5] * b[6]
    BODIES[0][3] = -px / SOLAR_MASS
    BODIES[0][4] = -py / SOLAR_MASS
    BODIES[0][5] = -pz / SOLAR_MASS


def energy():
    e = 0.0
    for i, b in enumerate(BODIES):
        e += 0.5 * b[6] * (b[3] * b[3] + b[4] * b[4] + b[5] * b[5])
        for b2 in BODIES[i + 1:]:
            e -= b[6] * b2[6] / sqrt((b[0] - b2[0]) * (b[0] - b2[0]) + (b[1] - b2[1]) * (b[1] - b2[1])
                                     + (b[2] - b2[2]) * (b[2] - b2[2]))
    return e


def advance(dt, steps):
    for _ in range(steps):
        for b, b2 in PAIRS:
            dx = b[0] - b2[0]
            dy = b[1] - b2[1]
            dz = b[2] - b2[2]
            d = sqrt(dx * dx + dy * dy + dz * dz)
            mag = dt / (d * d * d)
            b[3] -= dx * b2[6] * mag
            b[4] -= dy * b2[6] * mag
            b[5] -= dz * b2[6] * mag
            b2[3] += dx * b[6] * mag
            b2[4] += dy * b[6] * mag
            b2[5] += dz * b[6] * mag
        for b in BODIES:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]


offset_momentum()
print(int(energy() * 1e9))
advance(0.01, 3_000_000)
print(int(energy() * 1e9))
