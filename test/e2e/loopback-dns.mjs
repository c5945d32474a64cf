// Preload (`node --import`) for child processes the tests spawn: Node's resolver does not resolve
// *.localhost, so answer those names with 127.0.0.1, as browsers do. Every other name resolves as usual.

import dns from "node:dns";
import { syncBuiltinESMExports } from "node:module";

const LOOPBACK = { address: "127.0.0.1", family: 4 };
const isLocalhost = (host) => typeof host === "string" && (host === "localhost" || host.endsWith(".localhost"));
const wantsAll = (opts) => typeof opts === "object" && opts !== null && opts.all === true;

const { lookup } = dns;
dns.lookup = function loopbackLookup(host, opts, cb) {
  if (!isLocalhost(host)) return lookup.call(this, host, opts, cb);
  const callback = typeof opts === "function" ? opts : cb;
  process.nextTick(() => (wantsAll(opts) ? callback(null, [LOOPBACK]) : callback(null, LOOPBACK.address, LOOPBACK.family)));
  return {};
};

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = (host, opts) => {
  if (!isLocalhost(host)) return promisesLookup(host, opts);
  return Promise.resolve(wantsAll(opts) ? [LOOPBACK] : LOOPBACK);
};

// ESM importers of `node:dns` read named exports that were copied at load time; refresh them.
syncBuiltinESMExports();
