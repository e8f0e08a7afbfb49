// viem's getProof against a Neuro Stack node (EIP-1186).
// Usage: node tests/js/viem_proof.mjs <http_url> <address> <blockNumber> <slot>...
// Prints one JSON object (bigints as decimal strings); the pytest test verifies it against
// the block's state root with the protocol's own verifier. Any failure exits non-zero.
import { createPublicClient, http } from "viem";

const [url, address, blockNumber, ...storageKeys] = process.argv.slice(2);
setTimeout(() => {
  console.error("timed out");
  process.exit(3);
}, 30_000).unref();

const client = createPublicClient({ transport: http(url) });
const proof = await client.getProof({ address, storageKeys, blockNumber: BigInt(blockNumber) });
const block = await client.getBlock({ blockNumber: BigInt(blockNumber) });
console.log(
  JSON.stringify(
    { proof, stateRoot: block.stateRoot },
    (_, value) => (typeof value === "bigint" ? value.toString() : value),
  ),
);
