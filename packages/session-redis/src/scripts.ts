/**
 * The store's Lua scripts. Each runs atomically on the two keys of one session, `…s:{digest}` (a hash:
 * epoch, owner, positions, attributes) and `…s:{digest}:j` (a list: the unacknowledged outbound frames,
 * positions `jb + 1` …); the hash tag keeps both in one Cluster slot.
 *
 * Hash fields: `e` epoch, `o` owner node ('' once released), `i` public id, `ob` outAcked, `os` outSent,
 * `r` received, `ea` endAt, `ek` endAcked, `pe` peerEndAt, `ie` inEnded, `a` attributes (JSON), `jb` base,
 * `rc` 1 while a recovered session's client has not heard that it was recovered.
 * A session that completed leaves a marker in its hash's place for its ttl: `e` (so a fenced node's late
 * PERSIST cannot bring the session back) and `c` = 1, and no list.
 */

/**
 * PERSIST. KEYS: hash, list. ARGV: epoch, owner, ttl ms, id, outAcked, outSent, received, endAt, endAcked,
 * peerEndAt, inEnded, attributes, release (1: owner becomes ''), first position of the frames, recovered
 * (1: the client has not heard of a recovery yet), frames…
 * Fenced (another node bumped the epoch): returns -1. A gap between what is stored and the frames sent:
 * returns -2 (the caller sends the whole journal next time). Else the highest stored position.
 * Idempotent: a re-sent call appends nothing twice (frames at or below the stored end are skipped), so
 * ioredis's resend of an unanswered command is harmless.
 */
export const PERSIST = `
local e = redis.call('HGET', KEYS[1], 'e')
if e and e ~= ARGV[1] then return -1 end
local acked = tonumber(ARGV[5])
local jb = tonumber(redis.call('HGET', KEYS[1], 'jb') or ARGV[5])
local len = redis.call('LLEN', KEYS[2])
local drop = acked - jb
if drop > 0 then
  if drop >= len then
    redis.call('DEL', KEYS[2])
    len = 0
  else
    redis.call('LTRIM', KEYS[2], drop, -1)
    len = len - drop
  end
  jb = acked
end
local last = jb + len
local first = tonumber(ARGV[14])
if #ARGV >= 16 and first > last + 1 then return -2 end
for i = 16, #ARGV do
  local pos = first + i - 16
  if pos > last then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    last = pos
  end
end
local owner = ARGV[2]
if ARGV[13] == '1' then owner = '' end
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', owner, 'i', ARGV[4], 'ob', ARGV[5], 'os', ARGV[6], 'r', ARGV[7],
  'ea', ARGV[8], 'ek', ARGV[9], 'pe', ARGV[10], 'ie', ARGV[11], 'a', ARGV[12], 'jb', jb, 'rc', ARGV[15])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if last > jb then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return last
`

/**
 * CLAIM. KEYS: hash, list. ARGV: new owner, ttl ms, the owner the claimer read. Takes the session: bumps the
 * epoch (fencing the node before: its next PERSIST fails), sets the owner. Returns nil when the session is
 * unknown; -2 when it completed (its marker); -1 when its owner is no longer the one the claimer read
 * (another node claimed it meanwhile: two nodes must never both take it); else { previous owner, new epoch,
 * field count, hash fields and values…, frames… }.
 */
export const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HEXISTS', KEYS[1], 'c') == 1 then return -2 end
local previous = redis.call('HGET', KEYS[1], 'o') or ''
if previous ~= ARGV[3] then return -1 end
local epoch = redis.call('HINCRBY', KEYS[1], 'e', 1)
redis.call('HSET', KEYS[1], 'o', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local out = { previous, tostring(epoch) }
local h = redis.call('HGETALL', KEYS[1])
out[#out + 1] = tostring(#h)
for i = 1, #h do out[#out + 1] = h[i] end
local frames = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #frames do out[#out + 1] = frames[i] end
return out
`

/**
 * FORGET. KEYS: hash, list. ARGV: epoch, and for a session that completed the marker's ttl ms ('' for
 * none). Deletes the session if this node still holds it (same epoch); a completed one leaves its marker.
 */
export const FORGET = `
local e = redis.call('HGET', KEYS[1], 'e')
if e and e ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'e', ARGV[1], 'c', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`

/**
 * RELEASE. KEYS: hash. ARGV: epoch, recovered (1: it was claimed as recovered). A session this node claimed
 * and then did not take: released as it is (owner ''), if no node claimed it since (same epoch). A
 * recovered copy stays one (`rc`): the next node takes it as recovered, not as a handover. Returns 1 when
 * released.
 */
export const RELEASE = `
if redis.call('HGET', KEYS[1], 'e') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'o', '')
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'rc', '1') end
return 1
`
