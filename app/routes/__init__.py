"""One APIRouter per concern: api (trace, export, architectures), stream (SSE)."""
