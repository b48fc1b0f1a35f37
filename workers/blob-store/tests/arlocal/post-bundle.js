// Posts ANS-104 data items (files) to arlocal inside one signed ANS-104 bundle transaction,
// mines it, and prints the bundle's transaction id. arlocal unbundles the items (with
// arbundles), so they become readable by their own ids.
// Usage: node post-bundle.js <gateway url> <item file>...
const fs = require('fs');
const crypto = require('crypto');
const Arweave = require('arweave');

function u256le(n) {
  const b = Buffer.alloc(32);
  b.writeUIntLE(n, 0, 6);
  return b;
}

(async () => {
  const [url, ...files] = process.argv.slice(2);
  const u = new URL(url);
  const arweave = Arweave.init({ host: u.hostname, port: Number(u.port), protocol: u.protocol.replace(':', '') });
  const items = files.map((f) => fs.readFileSync(f));
  const headers = items.map((item) => {
    const sigType = item.readUInt16LE(0);
    if (sigType !== 3) throw new Error(`signature type ${sigType}`);
    const id = crypto.createHash('sha256').update(item.subarray(2, 67)).digest();
    return Buffer.concat([u256le(item.length), id]);
  });
  const bundle = Buffer.concat([u256le(items.length), ...headers, ...items]);
  const key = await arweave.wallets.generate();
  const address = await arweave.wallets.jwkToAddress(key);
  await arweave.api.get(`mint/${address}/1000000000000000`);
  const tx = await arweave.createTransaction({ data: bundle }, key);
  tx.addTag('Bundle-Format', 'binary');
  tx.addTag('Bundle-Version', '2.0.0');
  await arweave.transactions.sign(tx, key);
  const res = await arweave.transactions.post(tx);
  if (res.status !== 200) throw new Error(`post: ${res.status} ${JSON.stringify(res.data)}`);
  await arweave.api.get('mine');
  console.log(tx.id);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
