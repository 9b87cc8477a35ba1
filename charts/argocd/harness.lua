-- Runs one Argo CD health.lua the way Argo CD does: the resource is the global `obj`, the
-- script's return value is the health status table.
--   lua5.4 harness.lua path/to/health.lua < object.json
-- Prints two lines: the status, then the message (newlines in it escaped as \n).
-- The object arrives as JSON (the test converts the YAML testdata); JSON null becomes nil,
-- as it does in Argo CD's conversion.

local function decode(s)
  local pos = 1

  local function fail(what)
    error(string.format("json: %s at byte %d", what, pos), 0)
  end

  local function skip()
    pos = string.find(s, "[^ \t\r\n]", pos) or (#s + 1)
  end

  local value

  local function str()
    pos = pos + 1 -- opening quote
    local out = {}
    while true do
      local c = string.sub(s, pos, pos)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = pos + 1; break end
      if c == "\\" then
        local e = string.sub(s, pos + 1, pos + 1)
        local map = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if map[e] then
          out[#out + 1] = map[e]
          pos = pos + 2
        elseif e == "u" then
          local code = tonumber(string.sub(s, pos + 2, pos + 5), 16)
          if not code then fail("bad \\u escape") end
          pos = pos + 6
          if code >= 0xD800 and code <= 0xDBFF and string.sub(s, pos, pos + 1) == "\\u" then
            local low = tonumber(string.sub(s, pos + 2, pos + 5), 16)
            if low and low >= 0xDC00 and low <= 0xDFFF then
              code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
              pos = pos + 6
            end
          end
          out[#out + 1] = utf8.char(code)
        else
          fail("bad escape")
        end
      else
        local stop = string.find(s, '["\\]', pos) or (#s + 1)
        out[#out + 1] = string.sub(s, pos, stop - 1)
        pos = stop
      end
    end
    return table.concat(out)
  end

  local function num()
    local literal = string.match(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not literal or literal == "" then fail("bad number") end
    pos = pos + #literal
    return math.tointeger(tonumber(literal)) or tonumber(literal)
  end

  local function arr()
    pos = pos + 1
    local out = {}
    skip()
    if string.sub(s, pos, pos) == "]" then pos = pos + 1; return out end
    local n = 0
    while true do
      n = n + 1
      out[n] = value()
      skip()
      local c = string.sub(s, pos, pos)
      pos = pos + 1
      if c == "]" then return out end
      if c ~= "," then fail("expected , or ]") end
    end
  end

  local function object()
    pos = pos + 1
    local out = {}
    skip()
    if string.sub(s, pos, pos) == "}" then pos = pos + 1; return out end
    while true do
      skip()
      if string.sub(s, pos, pos) ~= '"' then fail("expected key") end
      local k = str()
      skip()
      if string.sub(s, pos, pos) ~= ":" then fail("expected :") end
      pos = pos + 1
      out[k] = value()
      skip()
      local c = string.sub(s, pos, pos)
      pos = pos + 1
      if c == "}" then return out end
      if c ~= "," then fail("expected , or }") end
    end
  end

  value = function()
    skip()
    local c = string.sub(s, pos, pos)
    if c == "{" then return object() end
    if c == "[" then return arr() end
    if c == '"' then return str() end
    if c == "-" or string.match(c, "%d") then return num() end
    for word, v in pairs({ ["true"] = true, ["false"] = false }) do
      if string.sub(s, pos, pos + #word - 1) == word then pos = pos + #word; return v end
    end
    if string.sub(s, pos, pos + 3) == "null" then pos = pos + 4; return nil end
    fail("unexpected character")
  end

  local result = value()
  skip()
  if pos <= #s then fail("trailing data") end
  return result
end

local script = arg[1] or error("usage: lua5.4 harness.lua health.lua < object.json")
obj = decode(io.read("a"))
local chunk = assert(loadfile(script))
local ok, hs = pcall(chunk)
if not ok then
  io.stderr:write("health.lua failed: " .. tostring(hs) .. "\n")
  os.exit(2)
end
if type(hs) ~= "table" then
  io.stderr:write("health.lua returned " .. type(hs) .. ", not a table\n")
  os.exit(2)
end
local function line(v)
  return (string.gsub(tostring(v or ""), "\n", "\\n"))
end
io.write(line(hs.status), "\n", line(hs.message), "\n")
