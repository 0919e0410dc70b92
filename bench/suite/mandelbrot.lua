-- Mandelbrot: escape-time iteration in f64 over a grid; the checksum is the total iteration count.
local function escape(cr, ci, limit)
  local zr, zi, i = 0.0, 0.0, 0
  while i < limit and zr * zr + zi * zi <= 4.0 do
    local t = zr * zr - zi * zi + cr
    zi = 2.0 * zr * zi + ci
    zr = t
    i = i + 1
  end
  return i
end

local size = 1600
local total, inside = 0, 0
for y = 0, size - 1 do
  local ci = y * 2.4 / size - 1.2
  for x = 0, size - 1 do
    local cr = x * 3.0 / size - 2.2
    local n = escape(cr, ci, 200)
    total = total + n
    if n == 200 then inside = inside + 1 end
  end
end
print(string.format("%d\n%d", total, inside))
