-- zrange-after.lua: one page of a sorted set after a cursor (score, member), in either order.
--
-- The affiliate list pages by (score, member) so that ties (100,000 affiliates with 0 clicks) page
-- correctly: ZRANGEBYSCORE from the cursor's score would re-read every tie on every page. When the cursor
-- member is still there with the same score its rank is the answer; otherwise (it moved or left between
-- two pages) a binary search among the ties of that score finds where it was. O(log n) either way.
-- Members with equal scores are ordered byte-wise, as Redis orders them; Lua's `<` would use the locale.
--
-- KEYS[1]  the sorted set
-- ARGV[1]  cursor score, ARGV[2] cursor member, ARGV[3] 'asc' | 'desc', ARGV[4] page size
-- Returns member, score, member, score, ... in the requested order.
local key, score, member, order, limit = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])

local function bytesLessOrEqual(x, y)
  local lx, ly = #x, #y
  for i = 1, math.min(lx, ly) do
    local bx, by = string.byte(x, i), string.byte(y, i)
    if bx ~= by then return bx < by end
  end
  return lx <= ly
end

-- firstAbove: index of the first entry greater than the cursor; firstAtOrAbove: of the first entry >= it.
local firstAbove, firstAtOrAbove
local rank = redis.call('ZRANK', key, member)
local current = redis.call('ZSCORE', key, member)
if rank and tonumber(current) == score then
  firstAbove, firstAtOrAbove = rank + 1, rank
else
  local lo = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[1])
  local hi = redis.call('ZCOUNT', key, '-inf', ARGV[1])
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local m = redis.call('ZRANGE', key, mid, mid)[1]
    if bytesLessOrEqual(m, member) then lo = mid + 1 else hi = mid end
  end
  firstAbove, firstAtOrAbove = lo, lo
end

if order == 'asc' then
  return redis.call('ZRANGE', key, firstAbove, firstAbove + limit - 1, 'WITHSCORES')
end
local stop = firstAtOrAbove - 1
if stop < 0 then return {} end
local start = math.max(0, stop - limit + 1)
local page = redis.call('ZRANGE', key, start, stop, 'WITHSCORES')
local out = {}
for i = #page - 1, 1, -2 do
  out[#out + 1] = page[i]
  out[#out + 1] = page[i + 1]
end
return out
