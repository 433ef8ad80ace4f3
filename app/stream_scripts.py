"""The Lua scripts of the token-stream protocol (app/streams.py): a write of tokens that runs
at most once however often a client retries it, and a final event that a stream holds once."""

FINAL_EVENT_TYPES = frozenset({"done", "error", "cancelled"})

# Several replies' writes in one call (a worker's flush: one command a tick, not one a reply).
# KEYS: each reply's stream and cancel flag. ARGV, for each reply: its live TTL, its marker (""
# for none), its number of events, then the type and data of each event. The marker goes on the
# reply's last entry; finding it there means this write ran already. Returns each reply's flag.
APPEND_TOKENS = """
local flags, at = {}, 1
for k = 1, #KEYS, 2 do
  local stream, ttl, marker = KEYS[k], ARGV[at], ARGV[at + 1]
  local first, last = at + 3, at + 1 + 2 * tonumber(ARGV[at + 2])
  at = last + 2
  local ran = false
  if marker ~= '' then
    local entry = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
    if entry then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'w' and fields[i + 1] == marker then
          ran = true
        end
      end
    end
  end
  if not ran then
    for i = first, last, 2 do
      if i == last and marker ~= '' then
        redis.call('XADD', stream, '*', 'type', ARGV[i], 'data', ARGV[i + 1], 'w', marker)
      else
        redis.call('XADD', stream, '*', 'type', ARGV[i], 'data', ARGV[i + 1])
      end
    end
    redis.call('EXPIRE', stream, ttl)
  end
  flags[#flags + 1] = redis.call('EXISTS', KEYS[k + 1])
end
return flags
"""

# KEYS: stream; ARGV: final TTL, type, data. A stream holds at most one final event, last.
APPEND_FINAL = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  local fields = last[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'type' and (FINAL) then
      return last[1]
    end
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return id
""".replace(
    "FINAL", " or ".join(f"fields[i + 1] == '{kind}'" for kind in sorted(FINAL_EVENT_TYPES))
)
