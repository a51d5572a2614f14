#!/usr/bin/env node
// Calls the exports of the example world in a fresh process and prints the
// results as one JSON line prefixed with `RESULT `. Anything the component
// itself writes to stdout (the `log` export) comes before that line.
//
//   node run-component.mjs MODULE.js
//
// MODULE.js is either a component transpiled by `jco transpile` or
// app/hello.js itself (plain Node, which gives the expected values).
// build.mjs imports CALLS from here for compsnap.args (`#call` lines).

import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The calls every check makes, in this order, on one instance: [WIT name, ...arguments]. */
export const CALLS = [
  ['hello', 'world'],
  ['hello', 'Alice'],
  ['count-primes', 100],
  ['count-primes', 10000],
  ['init-info'],
  ['log', 'logged line'],
  ['hello', 'zed'],
];

/** A call in WAVE, e.g. `count-primes(100)` (JSON string escapes are WAVE's for these arguments). */
export function wave([name, ...args]) {
  return `${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
}

/** The JS name jco and ComponentizeJS give a WIT export: `count-primes` -> `countPrimes`. */
function jsName(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

async function main(modulePath) {
  const results = [];
  let mod;
  try {
    mod = await import(pathToFileURL(resolve(modulePath)).href);
  } catch (e) {
    results.push({ call: 'instantiate', error: String(e?.stack ?? e) });
  }
  if (mod) {
    for (const c of CALLS) {
      const [name, ...args] = c;
      try {
        results.push({ call: wave(c), value: mod[jsName(name)](...args) });
      } catch (e) {
        results.push({ call: wave(c), error: String(e?.message ?? e) });
      }
    }
  }
  process.stdout.write(`RESULT ${JSON.stringify(results)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv[2]) {
    process.stderr.write('usage: node run-component.mjs MODULE.js\n');
    process.exit(2);
  }
  await main(process.argv[2]);
}
