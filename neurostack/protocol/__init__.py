"""Pure, deterministic protocol code shared by chain, hub, bridge and client. No I/O."""
