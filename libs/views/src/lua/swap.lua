-- swap.lua: makes the namespace being built the one reads are served from, atomically.
--
-- Refused unless the builder still holds its lease and the built namespace covers at least the events the
-- active one covers: swapping in a namespace that is behind would make the dashboard go back in time and
-- (since the live projector then continues from the new namespace's checkpoint) is never needed. The old
-- namespace is frozen from here on: commit.lua refuses writes into it (NAMESPACE_RETIRED).
--
-- KEYS[1] registry hash, KEYS[2] builder's lease key, KEYS[3] checkpoint of the building namespace,
-- KEYS[4] checkpoint of the active namespace (the registry again when there is none)
-- ARGV[1] fencing token, ARGV[2] building namespace, ARGV[3] the active namespace the caller saw ('' for none)
-- Returns {1, retired namespace or ''} when swapped, {0, active checkpoint, building checkpoint} when behind;
-- errors LEASE_LOST, NAMESPACE_RETIRED, ACTIVE_CHANGED (read the registry again and retry).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.error_reply('LEASE_LOST') end
if redis.call('HGET', KEYS[1], 'building') ~= ARGV[2] then return redis.error_reply('NAMESPACE_RETIRED') end
local active = redis.call('HGET', KEYS[1], 'active') or ''
if active ~= ARGV[3] then return redis.error_reply('ACTIVE_CHANGED') end
local building = tonumber(redis.call('GET', KEYS[3]) or '0')
if active ~= '' then
  local current = tonumber(redis.call('GET', KEYS[4]) or '0')
  if building < current then return {0, current, building} end
end
redis.call('HSET', KEYS[1], 'active', ARGV[2])
redis.call('HDEL', KEYS[1], 'building')
return {1, active}
