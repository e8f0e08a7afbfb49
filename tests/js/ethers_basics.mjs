// ethers v6 against a Neuro Stack node: what a dApp does first.
// Usage: node tests/js/ethers_basics.mjs <http_url> <ws_url> <artifact.json> <dev_private_key>
// Prints one JSON object; the pytest test asserts on it. Any failure exits non-zero.
import { ethers } from "ethers";
import { connect, step } from "./harness.mjs";

const [url, wsUrl, artifactPath, key] = process.argv.slice(2);
const { provider, wallet, artifact } = connect(url, key, artifactPath);
const out = {};
const str = (v) => (v === null || v === undefined ? null : v.toString());

step("network");
const network = await provider.getNetwork();
out.chainId = str(network.chainId);
out.balance = str(await provider.getBalance(wallet.address));

// A dynamic-fee (type 2) transfer and a legacy (type 0) one, each waited for.
step("recipient");
const recipient = ethers.Wallet.createRandom().address;
const transfer = await wallet.sendTransaction({ to: recipient, value: ethers.parseEther("1.25") });
const transferReceipt = await transfer.wait();
step("legacy");
const legacy = await wallet.sendTransaction({ to: recipient, value: 7n, type: 0 });
const legacyReceipt = await legacy.wait();
out.transfers = [transferReceipt, legacyReceipt].map((r, i) => ({
  status: r.status,
  type: [transfer, legacy][i].type,
  blockNumber: r.blockNumber,
  gasUsed: str(r.gasUsed),
  from: r.from,
}));
out.recipientBalance = str(await provider.getBalance(recipient));

// Deploy, call, send, read events.
step("factory");
const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
const counter = await factory.deploy(5n);
await counter.waitForDeployment();
out.contract = await counter.getAddress();
out.countAfterDeploy = str(await counter.count());
step("sent");
const sent = await counter.increment("from ethers");
const sentReceipt = await sent.wait();
out.count = str(await counter.count());
out.receiptLogs = sentReceipt.logs.length;
step("events");
const events = await counter.queryFilter(counter.filters.Incremented(wallet.address), 0, "latest");
out.events = events.map((e) => ({ by: e.args.by, newCount: str(e.args.newCount), note: e.args.note }));
out.logs = (await provider.getLogs({ address: out.contract, fromBlock: 0, toBlock: "latest" })).length;

// Reverts reach ethers decoded: a reason string and a custom error.
step("reverts");
try {
  await counter.fail.staticCall();
  out.revert = null;
} catch (e) {
  out.revert = { code: e.code, reason: e.reason };
}
try {
  await counter.connect(provider).ownerOnly.staticCall({ from: recipient });
  out.customError = null;
} catch (e) {
  out.customError = { code: e.code, name: e.revert?.name, args: e.revert?.args?.map(str) };
}

step("fee");
const fee = await provider.getFeeData();
out.feeData = { gasPrice: str(fee.gasPrice), maxFeePerGas: str(fee.maxFeePerGas), maxPriorityFeePerGas: str(fee.maxPriorityFeePerGas) };
const block = await provider.getBlock("latest");
out.block = { number: block.number, hash: block.hash, baseFeePerGas: str(block.baseFeePerGas), transactions: block.transactions.length };

// Over WebSocket: a new-block subscription sees the next block.
step("ws");
const ws = new ethers.WebSocketProvider(wsUrl);
const seen = new Promise((resolve) => ws.once("block", (n) => resolve(n)));
await (await counter.increment("over ws")).wait();
out.wsBlock = await Promise.race([seen, new Promise((r) => setTimeout(() => r(null), 5000))]);
await ws.destroy();

console.log(JSON.stringify(out));
process.exit(0);
