"""An environment's content seen by component: which tables and files make up each component,
its digest, and (later) export and atomic replacement."""
