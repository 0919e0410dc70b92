-- Collatz: the number of steps to reach 1 for every start below a limit (branchy integer code).
local function steps(n)
  local count = 0
  while n ~= 1 do
    if n % 2 == 0 then
      n = n / 2
    else
      n = 3 * n + 1
    end
    count = count + 1
  end
  return count
end

local total, best, best_start = 0, 0, 1
for start = 1, 1500000 - 1 do
  local s = steps(start)
  total = total + s
  if s > best then
    best = s
    best_start = start
  end
end
print(string.format("%d\n%d\n%d", total, best_start, best))
