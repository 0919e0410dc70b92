-- A tight integer loop: multiply, add and remainder by a constant on a dependency chain.
-- (LuaJIT numbers are doubles: every value here stays below 2^53, so the result is exact.)
local acc, sum = 0, 0
for i = 0, 100000000 - 1 do
  acc = (acc * 31 + i) % 1000003
  sum = sum + acc
end
print(string.format("%d", sum))
