"""HTTP surfaces: the native API and one package per vendor dialect, each a thin adapter over
services. What the dialects share (error dispatch, body reading) lives at this level."""
