"""Unrolled's web layer: the trace API, its SSE stream and the pages, around the pure-PyTorch models/."""
