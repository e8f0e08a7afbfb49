// ethers v6 against the execution-apis methods a Neuro Stack node added: an access list from
// eth_createAccessList used in a real transaction, eth_simulateV1 decoded with the contract's
// ABI, contract events over polled filters (eth_newFilter ids), eth_config, and the keyless
// answer a JsonRpcSigner gets. Usage:
//   node tests/js/ethers_spec.mjs <http_url> <artifact.json> <dev_private_key>
// Prints one JSON object; the pytest test asserts on it. Any failure exits non-zero.
import { ethers } from "ethers";
import { connect, step } from "./harness.mjs";

const [url, artifactPath, key] = process.argv.slice(2);
const { provider, wallet, artifact } = connect(url, key, artifactPath);
const out = {};

step("deploy");
const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
const counter = await factory.deploy(5n);
await counter.waitForDeployment();
const address = await counter.getAddress();
const iface = counter.interface;

// Events over HTTP: ethers installs an eth_newFilter and polls eth_getFilterChanges with its id.
step("subscribe");
const seen = new Promise((resolve) => counter.once("Incremented", (by, newCount, note) => resolve(note)));

step("accessList");
const data = iface.encodeFunctionData("increment", ["with a list"]);
const created = await provider.send("eth_createAccessList", [{ from: wallet.address, to: address, data }, "latest"]);
out.accessList = created.accessList;
out.estimatedGas = BigInt(created.gasUsed).toString();
const tx = await wallet.sendTransaction({ to: address, data, accessList: created.accessList, type: 2 });
const receipt = await tx.wait();
out.usedGas = receipt.gasUsed.toString();
out.sentAccessList = ethers.accessListify(tx.accessList).map((e) => [e.address, e.storageKeys]);
out.event = await seen;

step("simulate");
const read = iface.encodeFunctionData("count");
const [block] = await provider.send("eth_simulateV1", [
  {
    blockStateCalls: [
      { calls: [{ from: wallet.address, to: address, data: iface.encodeFunctionData("add", [10n]) }, { to: address, data: read }] },
    ],
  },
  "latest",
]);
out.simulatedCount = iface.decodeFunctionResult("count", block.calls[1].returnData)[0].toString();
out.simulatedEvent = iface.parseLog(block.calls[0].logs[0]).args.newCount.toString();
out.countAfter = (await counter.count()).toString();

step("transaction");
const fetched = await provider.getTransaction(tx.hash);
out.fetchedType = fetched.type;
out.fetchedAccessList = fetched.accessList.map((e) => [e.address, e.storageKeys]);

step("config");
const config = await provider.send("eth_config", []);
out.configChainId = BigInt(config.current.chainId).toString();

step("keyless");
try {
  await new ethers.JsonRpcSigner(provider, wallet.address).sendTransaction({ to: ethers.Wallet.createRandom().address, value: 1n });
  out.keyless = "sent?!";
} catch (err) {
  out.keyless = err.error?.message ?? err.info?.error?.message ?? err.message;
}

console.log(JSON.stringify(out));
process.exit(0);
