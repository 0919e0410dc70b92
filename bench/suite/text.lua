-- Text building: concatenation, number formatting and a substring search.
local total, hits = 0, 0
for i = 0, 1000000 - 1 do
  local parts = {"item"}
  for j = 0, 7 do
    parts[#parts + 1] = ":" .. tostring(i * 8 + j)
  end
  local line = table.concat(parts)
  total = total + #line
  if string.find(line, "77", 1, true) then
    hits = hits + 1
  end
end
print(total)
print(hits)
