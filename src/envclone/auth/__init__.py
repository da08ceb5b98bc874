"""Who is calling and what they may do: password hashes, expiring tokens, role checks.
Knows no dialect; each API maps its own login scheme onto these."""
