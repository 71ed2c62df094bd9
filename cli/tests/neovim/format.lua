-- Formatting: `vim.lsp.buf.format()` on an unformatted file, which is then written for
-- the test to compare with `infra fmt`.
return function(t)
  t.client()
  local before = t.text()
  vim.lsp.buf.format({ async = false, timeout_ms = 10000 })
  t.record("changed", t.text() ~= before)
  vim.cmd("silent write")
end
