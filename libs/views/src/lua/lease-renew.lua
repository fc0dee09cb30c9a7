-- lease-renew.lua: extends a lease only for the token that holds it (a plain PEXPIRE would extend a
-- lease that expired and was taken by another projector meanwhile).
--
-- KEYS[1] lease key; ARGV[1] token, ARGV[2] time to live in ms. Returns 1 when extended, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
