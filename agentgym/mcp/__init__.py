"""MCP both ways: serve an agentgym env to any MCP client, and wrap any MCP server as an env.

- `agentgym mcp serve ENV_ID` (`agentgym.mcp.server`): one episode per MCP session, over stdio or
  streamable HTTP; the verdict comes back from the `finish` tool.
- `agentgym.mcp.env.MCPEnv`: an env whose tools are an MCP server's (a command spawned per episode,
  or a URL), with tasks from a task file and a verifier that reads the server's end state.

Nothing here is imported by `import agentgym`; the official `mcp` SDK is the `mcp` extra.
"""
