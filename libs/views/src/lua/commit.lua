-- commit.lua: applies one batch of view changes and the checkpoint that covers it, atomically.
--
-- Guarded (ARGV[2] ~= ''), the batch is written only if
--   * the caller's fencing token still holds the projection's lease: without it, a projector that paused
--     past its lease (GC, SIGSTOP, network) could overwrite what the new leader wrote since;
--   * the namespace is still registered under the caller's role: without it, a projector that has not yet
--     noticed a rebuild's swap would keep writing into the retired namespace and lose those events;
--   * the stored checkpoint does not already cover the batch: without it, a batch whose reply was lost
--     (command timeout after Redis had run it) would be counted twice when retried.
--
-- KEYS[1]    checkpoint key of the namespace
-- KEYS[2]    lease key     (unguarded: KEYS[1] again)
-- KEYS[3]    registry hash (unguarded: KEYS[1] again)
-- KEYS[4..]  one key per change, in order
-- ARGV[1]    the checkpoint (global position of the batch's last event)
-- ARGV[2]    fencing token, or '' for an unguarded write
-- ARGV[3]    registry field the namespace must be under: 'active' or 'building'
-- ARGV[4]    the namespace
-- ARGV[5..]  per change: 'p' json | 'd' | 'z' member score | 'r' member
-- Returns 1 when written, 0 when the checkpoint already covered the batch; errors LEASE_LOST, NAMESPACE_RETIRED.
local checkpoint = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return redis.error_reply('LEASE_LOST') end
  if redis.call('HGET', KEYS[3], ARGV[3]) ~= ARGV[4] then return redis.error_reply('NAMESPACE_RETIRED') end
  local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
  if stored >= checkpoint then return 0 end
end
local a = 5
for k = 4, #KEYS do
  local op = ARGV[a]
  if op == 'p' then
    redis.call('SET', KEYS[k], ARGV[a + 1])
    a = a + 2
  elseif op == 'd' then
    redis.call('DEL', KEYS[k])
    a = a + 1
  elseif op == 'z' then
    redis.call('ZADD', KEYS[k], ARGV[a + 2], ARGV[a + 1])
    a = a + 3
  elseif op == 'r' then
    redis.call('ZREM', KEYS[k], ARGV[a + 1])
    a = a + 2
  else
    return redis.error_reply('BAD_OP ' .. tostring(op))
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
