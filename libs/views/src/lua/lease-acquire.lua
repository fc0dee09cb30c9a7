-- lease-acquire.lua: takes a free lease and hands out a fencing token unique to this acquisition.
--
-- The token carries a counter that only grows, so a holder that lost the lease and took it again later
-- gets a new token: a batch it computed under the old one is refused by commit.lua.
--
-- KEYS[1] lease key, KEYS[2] the lease's epoch counter
-- ARGV[1] holder (process identity), ARGV[2] time to live in ms
-- Returns the token, or nil when someone holds the lease.
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
