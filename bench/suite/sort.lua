-- Quicksort of pseudo-random integers (Park-Miller generator), then a checksum (tier 2: arrays).
-- (LuaJIT numbers are doubles: seed * 16807 stays below 2^53, so the generator is exact.)
local floor = math.floor

local function quicksort(a, lo, hi)
  while lo < hi do
    local pivot = a[floor((lo + hi) / 2)]
    local i, j = lo, hi
    while i <= j do
      while a[i] < pivot do i = i + 1 end
      while a[j] > pivot do j = j - 1 end
      if i <= j then
        a[i], a[j] = a[j], a[i]
        i = i + 1
        j = j - 1
      end
    end
    -- recurse into the smaller part, loop on the larger one
    if j - lo < hi - i then
      quicksort(a, lo, j)
      lo = i
    else
      quicksort(a, i, hi)
      hi = j
    end
  end
end

local n = 3000000
local a = {}
local seed = 42
for k = 0, n - 1 do
  seed = seed * 16807 % 2147483647
  a[k] = seed
end
quicksort(a, 0, n - 1)
local check, ordered = 0, true
for k = 0, n - 1 do
  check = check + (a[k] % 1000) * (k % 1000)
  if k > 0 and a[k - 1] > a[k] then ordered = false end
end
print(string.format("%d\n%d\n%d\n%d\n%s", a[0], a[n / 2], a[n - 1], check, tostring(ordered)))
