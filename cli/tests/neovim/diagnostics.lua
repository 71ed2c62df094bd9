-- Diagnostics: none on the clean module; a typo's after an edit; its fix applied by
-- `vim.lsp.buf.code_action()` with the cursor at column 0 of the line; then none again.
return function(t)
  local buf = vim.api.nvim_get_current_buf()
  t.client(buf)
  t.wait("the first diagnostics of " .. t.name(buf), function()
    return t.publishes(buf) > 0
  end)
  t.record("initial", t.diagnostics(buf))

  local typo = "output shout = uper(project)"
  local last = vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, last, last, false, { typo })
  t.wait("a diagnostic E0209 for `uper`", function()
    return vim.iter(vim.diagnostic.get(buf)):any(function(d)
      return d.code == "E0209"
    end)
  end)
  t.record("typo", t.diagnostics(buf))

  local seen = t.publishes(buf)
  vim.api.nvim_win_set_cursor(0, { last + 1, 0 })
  vim.lsp.buf.code_action({ apply = true })
  local function line()
    return vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
  end
  t.wait("the code action to replace `uper`", function()
    return line() ~= typo
  end)
  t.record("fixed", line())
  t.wait("the diagnostics to clear", function()
    return t.publishes(buf) > seen and #vim.diagnostic.get(buf) == 0
  end)
end
