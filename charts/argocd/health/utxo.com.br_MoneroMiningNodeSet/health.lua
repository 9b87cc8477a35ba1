-- Argo CD health check for monero-operator custom resources (MoneroNodeSet, MoneroNetwork,
-- MoneroMiningNodeSet: one identical copy per kind, see charts/argocd/README.md).
--   Progressing  the controller has not yet observed the latest spec, or no status yet
--   Degraded     condition Synced=False (the hook refused the spec; children kept as they were)
--   Degraded     condition Degraded=True (a set that was ready lost replicas)
--   Healthy      condition Ready=True for the latest generation
--   Progressing  otherwise, with the message of PodsScheduled=False (pods the scheduler cannot
--                place, and why) or else of the Ready (or Progressing) condition
local hs = { status = "Progressing", message = "Waiting for the controller to report status" }

local function condition(conditions, wanted)
  if type(conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(conditions) do
    if type(c) == "table" and c.type == wanted then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and type(c.message) == "string" and c.message ~= "" then
    return c.message
  end
  if c ~= nil and type(c.reason) == "string" and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

if obj.status == nil or type(obj.status) ~= "table" then
  return hs
end

local generation = nil
if obj.metadata ~= nil and type(obj.metadata.generation) == "number" then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if generation ~= nil and (type(observed) ~= "number" or observed < generation) then
  hs.message = "Waiting for the controller to observe generation " .. string.format("%d", generation)
  return hs
end

local conditions = obj.status.conditions
local ready = condition(conditions, "Ready")
local degraded = condition(conditions, "Degraded")
local progressing = condition(conditions, "Progressing")

-- A condition computed for an older generation says nothing about the current spec.
local function current(c)
  if c == nil or generation == nil or type(c.observedGeneration) ~= "number" then
    return c
  end
  if c.observedGeneration < generation then
    return nil
  end
  return c
end
ready = current(ready)
degraded = current(degraded)
progressing = current(progressing)
local synced = current(condition(conditions, "Synced"))

-- The hook refused the current spec: nothing of it was applied, whatever still runs.
if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  local reason = "SpecRefused"
  if type(synced.reason) == "string" and synced.reason ~= "" then
    reason = synced.reason
  end
  hs.message = reason .. ": " .. text(synced, "the hook refused the spec")
  return hs
end

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = text(degraded, "Degraded")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "Ready")
  return hs
end

local scheduled = current(condition(conditions, "PodsScheduled"))
if scheduled ~= nil and scheduled.status == "False" then
  hs.message = text(scheduled, hs.message)
elseif ready ~= nil then
  hs.message = text(ready, hs.message)
elseif progressing ~= nil and progressing.status == "True" then
  hs.message = text(progressing, hs.message)
end
return hs
