-- lease-release.lua: gives a lease up at shutdown, so a standby takes over at once instead of after the
-- time to live; only for the token that holds it (never deletes a successor's lease).
--
-- KEYS[1] lease key; ARGV[1] token. Returns 1 when released, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
