-- abandon-build.lua: unregisters a build, only if it is still the registered one (a plain HDEL could drop
-- a newer build registered meanwhile).
--
-- KEYS[1] registry hash; ARGV[1] the building namespace. Returns 1 when unregistered, else 0.
if redis.call('HGET', KEYS[1], 'building') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'building') end
return 0
