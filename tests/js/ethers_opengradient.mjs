// ethers v6 against the OpenGradient functions a Neuro Stack chain does not serve: a contract
// compiled against OpenGradient's OGInference.sol/OGHistorical.sol calls runLLMCompletion,
// runLLMChat (0x…F4) and runInferenceOnPriceFeed (0x…F5); ethers must see the chain's
// reason string in staticCall, estimateGas, a direct call and a mined, failed transaction.
// Usage:
//   node tests/js/ethers_opengradient.mjs <http_url> <artifact.json> <dev_private_key> <model_cid>
// Prints one JSON object; the pytest test asserts on it. Any failure exits non-zero.
import { ethers } from "ethers";
import { connect, step } from "./harness.mjs";

const [url, artifactPath, key, cid] = process.argv.slice(2);
const { provider, wallet, artifact } = connect(url, key, artifactPath);
const out = {};

const seen = (err) => ({ code: err.code, reason: err.reason ?? null });

step("deploy");
const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
const consumer = await factory.deploy("x");
await consumer.waitForDeployment();

const calls = { completion: [cid, "hello"], chat: [cid, "hello"], priceFeed: [cid] };
for (const [name, args] of Object.entries(calls)) {
  step(`staticCall ${name}`);
  const result = {};
  try {
    await consumer[name].staticCall(...args);
    result.staticCall = "returned?!";
  } catch (err) {
    result.staticCall = seen(err);
  }
  step(`estimateGas ${name}`);
  try {
    await consumer[name].estimateGas(...args);
    result.estimateGas = "estimated?!";
  } catch (err) {
    result.estimateGas = seen(err);
  }
  step(`transaction ${name}`);
  const tx = await consumer[name](...args, { gasLimit: 1_000_000n });
  try {
    await tx.wait();
    result.transaction = "succeeded?!";
  } catch (err) {
    result.transaction = { code: err.code, status: err.receipt?.status ?? null };
  }
  out[name] = result;
}

step("direct");
const direct = {};
const iface = new ethers.Interface(artifact.abi);
for (const [to, data] of [
  ["0x00000000000000000000000000000000000000F4", "0x14800c61"],
  ["0x00000000000000000000000000000000000000F5", "0x"],
]) {
  try {
    await provider.call({ to, data });
    direct[to] = "returned?!";
  } catch (err) {
    direct[to] = seen(err);
  }
}
out.direct = direct;
out.functions = iface.fragments.filter((f) => f.type === "function").length;

console.log(JSON.stringify(out));
process.exit(0);
