// Starts arlocal on 127.0.0.1:<port> only (arlocal itself listens on every interface).
// Usage: node start.js <port> <db dir>
const http = require('http');
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, ...rest) {
  const callback = rest.find((a) => typeof a === 'function');
  return listen.call(this, port, '127.0.0.1', callback);
};
const ArLocal = require('arlocal').default;
const [port, dbPath] = process.argv.slice(2);
new ArLocal(Number(port), false, dbPath, false).start().catch((e) => {
  console.error(e);
  process.exit(1);
});
