#!/usr/bin/env node
// ComponentizeJS 0.23, unmodified, with compsnap as its Wizer: what a user writes to use
// compsnap in a JavaScript build.
//
//   node componentize.mjs [--wizer-bin PATH] OUT.wasm
//
// Without --wizer-bin ComponentizeJS uses its own Wizer (what the benchmark compares with).
// It builds app/hello.js for the world in app/wit/hello.wit with the features build.mjs
// uses, passing `wizerBin: PATH`. ComponentizeJS spawns PATH with Wizer's command line
// (`--allow-wasi --init-func componentize.wizer --dir=… --mapdir=/::… --wasm-bulk-memory=true
// --inherit-env=true -o=OUT IN`, the engine's arguments on stdin), checks the result in
// Node's V8 (`check_init`) and wraps it as a component. Installs the pinned packages on
// first use, as build.mjs does. Prints `ok BYTES MS`.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNpm, ensureDeps } from './deps.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = join(HERE, 'app');
const args = process.argv.slice(2);
const at = args.indexOf('--wizer-bin');
if ((at >= 0 && !args[at + 1]) || args.length !== (at >= 0 ? 3 : 1)) {
  process.stderr.write('usage: node componentize.mjs [--wizer-bin PATH] OUT.wasm\n');
  process.exit(2);
}
const wizerBin = at >= 0 ? resolve(args[at + 1]) : undefined;
const out = resolve(args.filter((_, i) => at < 0 || (i !== at && i !== at + 1))[0]);

checkNpm();
ensureDeps();
const { componentize } = await import('@bytecodealliance/componentize-js');
// As in build.mjs: run from app/, so ComponentizeJS maps app/ as `/`; pass the WIT as text.
process.chdir(APP);
const started = performance.now();
const { component } = await componentize({
  sourcePath: join(APP, 'hello.js'),
  witWorld: await readFile(join(APP, 'wit', 'hello.wit'), 'utf8'),
  worldName: 'hello',
  disableFeatures: ['http', 'fetch-event'],
  wizerBin,
});
await writeFile(out, component);
console.log(`ok ${component.length} ${Math.round(performance.now() - started)}`);
