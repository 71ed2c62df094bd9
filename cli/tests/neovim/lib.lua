-- What the Neovim test scripts share (see cli/tests/neovim.rs): waiting for the client
-- and for conditions, where a timeout is a failure that says what was awaited; requests;
-- and the report the Rust side reads. Loaded with `--cmd`, before the init.lua under
-- test, so that it sees every diagnostics notification.

local M = {}

-- Far above what any step takes (milliseconds); reached only when something is broken.
local TIMEOUT_MS = 10000

local report = {}
local publishes = {}

-- Counts each buffer's publishDiagnostics notifications, then handles them as usual.
local on_publish = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  local path = vim.uri_to_fname(result.uri)
  publishes[path] = (publishes[path] or 0) + 1
  return on_publish(err, result, ctx, config)
end

--- Ends the script with a failure that names what went wrong.
function M.fail(message)
  error({ failure = message })
end

--- Waits until `condition()` is true; fails naming `what` after the timeout.
function M.wait(what, condition)
  if not vim.wait(TIMEOUT_MS, condition, 5) then
    M.fail(("timed out after %d s waiting for %s"):format(TIMEOUT_MS / 1000, what))
  end
end

--- The full path of a buffer (the current one by default).
function M.name(buf)
  return vim.api.nvim_buf_get_name(buf or 0)
end

--- The `infra` client attached to a buffer, once initialized.
function M.client(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local client
  M.wait("the infra client to attach to " .. M.name(buf), function()
    client = vim.lsp.get_clients({ bufnr = buf, name = "infra" })[1]
    return client ~= nil and client.initialized == true
  end)
  return client
end

--- How many diagnostics notifications a buffer has had.
function M.publishes(buf)
  return publishes[M.name(buf)] or 0
end

--- A buffer's diagnostics as plain data: line and column (from 0), code, message.
function M.diagnostics(buf)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf or 0)) do
    table.insert(found, { line = d.lnum, col = d.col, code = d.code, message = d.message })
  end
  table.sort(found, function(a, b)
    return a.line < b.line or (a.line == b.line and a.col < b.col)
  end)
  return found
end

--- The position (line and character from 0) of the first `needle` in a buffer, plus
--- `shift` characters. The fixtures are ASCII, so bytes are characters.
function M.position(needle, shift, buf)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return { line = i - 1, character = col - 1 + (shift or 0) }
    end
  end
  M.fail(("no `%s` in %s"):format(needle, M.name(buf)))
end

--- Puts the cursor of the current window at a position from `M.position`.
function M.cursor(position)
  vim.api.nvim_win_set_cursor(0, { position.line + 1, position.character })
end

--- Text document position parameters for a buffer.
function M.at(position, buf)
  return { textDocument = { uri = vim.uri_from_bufnr(buf or 0) }, position = position }
end

--- Sends a request and waits for its answer; an error answer is a failure.
function M.request(client, method, params, buf)
  -- The buffer's number, not 0: the client sends the buffer's pending changes before a
  -- request only when it finds them by the number.
  buf = buf or vim.api.nvim_get_current_buf()
  local response, err = client:request_sync(method, params, TIMEOUT_MS, buf)
  if not response then
    M.fail(("%s got no answer: %s"):format(method, tostring(err)))
  end
  if response.err then
    M.fail(("%s answered an error: %s"):format(method, vim.inspect(response.err)))
  end
  return response.result
end

--- A buffer's lines joined.
function M.text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false), "\n")
end

--- Adds an observation to the report.
function M.record(key, value)
  report[key] = value == nil and vim.NIL or value
end

local function write_report(result)
  local file = assert(io.open(os.getenv("INFRA_TEST_REPORT"), "w"))
  file:write(vim.json.encode(result))
  file:close()
end

--- Runs a script (a file returning `function(t)`, called with this module), writes the
--- report and quits: with status 0 when the script ran to its end, else 1.
function M.run(script)
  local ok, err = xpcall(function()
    dofile(script)(M)
  end, debug.traceback)
  if ok then
    write_report({ ok = true, report = report })
    vim.cmd("qall!")
  else
    local message = type(err) == "table" and err.failure or tostring(err)
    write_report({ ok = false, error = message, report = report })
    vim.cmd("cquit 1")
  end
end

return M
