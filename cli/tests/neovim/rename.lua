-- Rename: `vim.lsp.buf.rename()` on a use of `greeting` (declared in the other file)
-- changes both files; they are written for the test to run `infra check`.
return function(t)
  t.client()
  local buf = vim.api.nvim_get_current_buf()
  t.cursor(t.position("upper(greeting)", 7))
  vim.lsp.buf.rename("welcome")
  t.wait("the rename to change " .. t.name(buf), function()
    return t.text(buf):find("upper(welcome)", 1, true) ~= nil
  end)
  local names = vim.fs.joinpath(vim.fs.dirname(t.name(buf)), "names.infra")
  t.wait("the rename to change " .. names, function()
    local other = vim.fn.bufnr(names)
    return other ~= -1 and t.text(other):find("welcome", 1, true) ~= nil
  end)
  vim.cmd("silent wall")
end
