-- N-body: the classic five-body planetary simulation in f64 (sqrt, division, many live values).
local sqrt = math.sqrt
local PI = 3.141592653589793
local SOLAR_MASS = 4.0 * PI * PI
local DAYS_PER_YEAR = 365.24

local function body(x, y, z, vx, vy, vz, m)
  return {x = x, y = y, z = z, vx = vx * DAYS_PER_YEAR, vy = vy * DAYS_PER_YEAR,
          vz = vz * DAYS_PER_YEAR, m = m * SOLAR_MASS}
end

local bodies = {
  {x = 0.0, y = 0.0, z = 0.0, vx = 0.0, vy = 0.0, vz = 0.0, m = SOLAR_MASS},
  body(4.841431442464721, -1.1603200440274284, -0.10362204447112311,
       0.001660076642744037, 0.007699011184197404, -6.90460016972063e-05, 0.0009547919384243266),
  body(8.34336671824458, 4.124798564124305, -0.4035234171143214,
       -0.002767425107268624, 0.004998528012349172, 2.3041729757376393e-05, 0.0002858859806661308),
  body(12.894369562139131, -15.111151401698631, -0.22330757889265573,
       0.002964601375647616, 0.0023784717395948095, -2.9658956854023756e-05, 4.366244043351563e-05),
  body(15.379697114850917, -25.919314609987964, 0.17925877295037118,
       0.0026806777249038932, 0.001628241700382423, -9.515922545197159e-05, 5.1513890204661145e-05),
}
local n = #bodies

local function offset_momentum()
  local px, py, pz = 0.0, 0.0, 0.0
  for i = 1, n do
    local b = bodies[i]
    px = px + b.vx * b.m
    py = py + b.vy * b.m
    pz = pz + b.vz * b.m
  end
  bodies[1].vx = -px / SOLAR_MASS
  bodies[1].vy = -py / SOLAR_MASS
  bodies[1].vz = -pz / SOLAR_MASS
end

local function energy()
  local e = 0.0
  for i = 1, n do
    local b = bodies[i]
    e = e + 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy + b.vz * b.vz)
    for j = i + 1, n do
      local b2 = bodies[j]
      e = e - b.m * b2.m / sqrt((b.x - b2.x) * (b.x - b2.x) + (b.y - b2.y) * (b.y - b2.y)
                                + (b.z - b2.z) * (b.z - b2.z))
    end
  end
  return e
end

local function advance(dt)
  for i = 1, n do
    local b = bodies[i]
    for j = i + 1, n do
      local b2 = bodies[j]
      local dx, dy, dz = b.x - b2.x, b.y - b2.y, b.z - b2.z
      local d = sqrt(dx * dx + dy * dy + dz * dz)
      local mag = dt / (d * d * d)
      b.vx = b.vx - dx * b2.m * mag
      b.vy = b.vy - dy * b2.m * mag
      b.vz = b.vz - dz * b2.m * mag
      b2.vx = b2.vx + dx * b.m * mag
      b2.vy = b2.vy + dy * b.m * mag
      b2.vz = b2.vz + dz * b.m * mag
    end
  end
  for i = 1, n do
    local b = bodies[i]
    b.x = b.x + dt * b.vx
    b.y = b.y + dt * b.vy
    b.z = b.z + dt * b.vz
  end
end

-- truncation toward zero, as C's (long long) cast
local function trunc(v) if v < 0 then return math.ceil(v) else return math.floor(v) end end

offset_momentum()
print(string.format("%d", trunc(energy() * 1e9)))
for _ = 1, 3000000 do advance(0.01) end
print(string.format("%d", trunc(energy() * 1e9)))
