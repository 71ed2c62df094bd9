-- One server for the module, however its files are opened: the file Neovim was started
-- with (by a relative or an absolute path), the other file by a relative then an
-- absolute path, and the first again by a path through `..`.
return function(t)
  local first = vim.api.nvim_get_current_buf()
  t.client(first)
  local dir = vim.fs.dirname(t.name(first))
  vim.cmd("edit names.infra")
  local names = vim.api.nvim_get_current_buf()
  vim.cmd("edit " .. vim.fn.fnameescape(vim.fs.joinpath(dir, "names.infra")))
  t.record("same_buffer_by_absolute_path", vim.api.nvim_get_current_buf() == names)
  vim.cmd("edit ../" .. vim.fs.basename(dir) .. "/main.infra")
  t.record("same_buffer_through_dotdot", vim.api.nvim_get_current_buf() == first)

  local client = t.client(names)
  for _, buf in ipairs({ first, names }) do
    t.wait("diagnostics for " .. t.name(buf), function()
      return t.publishes(buf) > 0
    end)
  end
  local clients = vim.lsp.get_clients({ name = "infra" })
  t.record("clients", #clients)
  t.record("root_dir", client.root_dir)
  t.record(
    "attached",
    vim.tbl_map(function(buf)
      return #vim.lsp.get_clients({ bufnr = buf, name = "infra" })
    end, { first, names })
  )
  t.record("diagnostics", { t.diagnostics(first), t.diagnostics(names) })
  -- `project` in names.infra is declared in main.infra: the server sees one module.
  local hover = t.request(client, "textDocument/hover", t.at(t.position("${project}", 3, names), names), names)
  t.record("hover", hover and hover.contents.value)
end
