-- Sieve of Eratosthenes: an array of flags, strided stores (tier 2: arrays).
local limit = 80000000
local composite = {}
for i = 0, limit do composite[i] = false end
local count, sum = 0, 0
for p = 2, limit do
  if not composite[p] then
    count = count + 1
    sum = sum + p
    for m = p * p, limit, p do composite[m] = true end
  end
end
print(string.format("%d\n%d", count, sum))
