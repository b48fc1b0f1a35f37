// Checks an ANS-104 data item with arbundles (the reference implementation) and prints
// {"valid": bool, "id": "...", "tags": [...]}.
// Usage: node verify-item.js <item file>
const fs = require('fs');
const { DataItem } = require('arbundles');

(async () => {
  const raw = fs.readFileSync(process.argv[2]);
  const item = new DataItem(raw);
  const valid = await DataItem.verify(raw);
  console.log(JSON.stringify({ valid, id: item.id, tags: item.tags, data: item.rawData.toString('base64') }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
