-- Hover: an input, a resource attribute read through an index (`suffix[0].hex`), a field
-- of a `for` variable (`s.name`), a function; and the window `vim.lsp.buf.hover()` opens.
return function(t)
  local client = t.client()
  local function hover(needle, shift)
    local result = t.request(client, "textDocument/hover", t.at(t.position(needle, shift)))
    return result and result.contents.value
  end
  t.record("input", hover("${project}", 3))
  t.record("attribute", hover("suffix[0].hex", 11))
  t.record("field", hover("s.name", 3))
  t.record("function", hover("upper(", 1))

  t.cursor(t.position("suffix[0].hex", 11))
  vim.lsp.buf.hover()
  local float
  t.wait("the hover window", function()
    float = vim.iter(vim.api.nvim_list_wins()):find(function(win)
      return vim.api.nvim_win_get_config(win).relative ~= ""
    end)
    return float ~= nil
  end)
  t.record("window", t.text(vim.api.nvim_win_get_buf(float)))
end
