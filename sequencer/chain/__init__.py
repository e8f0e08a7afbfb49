"""The state transition: the Neuro VM (py-evm), genesis, block building. No network."""

# On-chain inference registers its precompiles, fee hook and genesis hook on import; every
# node must have them, or genesis and block execution would differ between processes.
from . import inference as inference
