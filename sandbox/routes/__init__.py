"""FastAPI routers of the sandbox, one module per Asana resource."""
