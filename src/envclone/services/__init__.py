"""The use cases every surface (dialects, console, CLI through the native API) calls. Authorization
happens here: each function takes the calling Principal and checks the permission it needs."""
