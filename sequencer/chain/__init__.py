"""The state transition: the Neuro VM (py-evm), genesis, block building. No network."""
