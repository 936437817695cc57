"""openstatus api: REST /v1, Connect RPC /rpc, MCP /mcp, authenticated by API keys."""
