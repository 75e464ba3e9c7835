"""The operators' tools: the `tracker` command (`cli/`), the demo province (`province/`) and the
report (`report/`). They sit above the services and reach them only through their public
contract and RPC, never their databases or their code (import-linter checks it)."""
