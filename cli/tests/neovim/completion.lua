-- Completion: in a body whose header holds a bracket (`for i in range(2)`), without what
-- the body sets already; and the fields of a `for` variable of object type.
return function(t)
  local client = t.client()
  local buf = vim.api.nvim_get_current_buf()
  local function labels(line, character)
    local answer = t.request(client, "textDocument/completion", t.at({ line = line, character = character }))
    local items = answer and (answer.items or answer) or {}
    local found = vim.tbl_map(function(item)
      return item.label
    end, items)
    table.sort(found)
    return found
  end

  -- An empty line in the body of `suffix`.
  local set = t.position("byte_length = 4")
  vim.api.nvim_buf_set_lines(buf, set.line + 1, set.line + 1, false, { "  " })
  t.record("body", labels(set.line + 1, 2))

  -- `s.` in the body of `server`, where `s` is an element of `servers`.
  local path = t.position("path    =")
  vim.api.nvim_buf_set_lines(buf, path.line + 1, path.line + 1, false, { "  mode = s." })
  t.record("fields", labels(path.line + 1, #"  mode = s."))
end
