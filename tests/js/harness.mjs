// What every ethers test script shares: an HTTP provider tuned for sub-second blocks, a
// wallet, the contract artifact, and step reporting with a watchdog that never lets a
// stalled script hang the test suite.
import fs from "node:fs";
import { ethers } from "ethers";

export function connect(url, key, artifactPath) {
  // cacheTimeout -1: ethers otherwise answers a repeated getTransactionCount within 250 ms
  // from its cache, which hands out a used nonce on a chain with sub-second blocks.
  const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
  const wallet = new ethers.Wallet(key, provider);
  const artifact = JSON.parse(fs.readFileSync(artifactPath, "utf8"));
  return { provider, wallet, artifact };
}

let lastStep = "start";

export function step(s) {
  lastStep = s;
  process.stderr.write(`step: ${s}\n`);
}

// Never hang the test suite: report where it stalled and fail.
setTimeout(() => {
  console.error(`timed out at step: ${lastStep}`);
  process.exit(3);
}, 45_000).unref();
