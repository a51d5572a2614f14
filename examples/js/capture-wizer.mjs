#!/usr/bin/env node
// A stand-in for the `wizer` program that ComponentizeJS spawns (its `wizerBin`
// option, CLI `--wizer-bin`). Instead of running the init, it records what the
// init would need, so compsnap can run the same init on a component later:
//
//   in.wasm         the un-initialized core module (the StarlingMonkey engine
//                   with the bindings spliced in)
//   env.json        the environment variables ComponentizeJS sets for the init
//                   (wizer runs with --inherit-env=true, so the init reads them)
//   stdin.txt       the text ComponentizeJS writes to the init's stdin (the
//                   StarlingMonkey runtime arguments)
//   preopens/<i>/   a copy of each directory wizer would preopen (ComponentizeJS
//                   deletes its work directory when it is done)
//   manifest.json   argv, the guest path of each preopen and its copy, and the
//                   environment variables that were left out of env.json
//
// It then copies the input unchanged to the `-o` path and exits 0, so
// ComponentizeJS carries on (0.23's check_init accepts it; build.mjs ignores its output).
//
// The capture directory is $COMPSNAP_CAPTURE_DIR. It is emptied first.

import {
  copyFileSync,
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/** Variables ComponentizeJS 0.23 sets for the init, and the ones the engine reads. */
const INIT_ENV = /^(DEBUG|DEBUG_GC|DEBUGGER_PORT|SOURCE_NAME|FEATURE_[A-Z0-9_]+|EXPORT_CNT|IMPORT_CNT|EXPORT\d+_[A-Z]+|IMPORT\d+_[A-Z]+)$/;

/** Refuse to copy more than this: a preopen this big is almost always the wrong directory. */
const MAX_COPY_BYTES = 64 * 1024 * 1024;

function fail(msg) {
  process.stderr.write(`capture-wizer: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { dirs: [], mapdirs: [], flags: {}, input: null, output: null, initFunc: null };
  // Options that take a value, as wizer spells them (`--x=v` or `--x v`).
  const valued = new Set(['--init-func', '--dir', '--mapdir', '-o', '--output']);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('-') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (valued.has(arg)) {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      value = argv[++i];
    }
    switch (arg) {
      case '--init-func':
        opts.initFunc = value;
        break;
      case '--dir':
        opts.dirs.push(value);
        break;
      case '--mapdir': {
        // wizer: --mapdir GUEST::HOST
        const sep = value.indexOf('::');
        if (sep < 0) fail(`--mapdir ${value}: expected GUEST::HOST`);
        opts.mapdirs.push({ guest: value.slice(0, sep), host: value.slice(sep + 2) });
        break;
      }
      case '-o':
      case '--output':
        opts.output = value;
        break;
      default:
        if (arg.startsWith('-')) {
          opts.flags[arg.replace(/^-+/, '')] = value ?? true;
        } else {
          if (opts.input !== null) fail(`more than one input: ${opts.input}, ${arg}`);
          opts.input = arg;
        }
    }
  }
  if (!opts.input) fail('no input module');
  if (!opts.output) fail('no -o output');
  return opts;
}

function treeBytes(path) {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += treeBytes(join(path, name));
  return total;
}

const captureDir = process.env.COMPSNAP_CAPTURE_DIR;
if (!captureDir) fail('COMPSNAP_CAPTURE_DIR is not set');

const argv = process.argv.slice(2);
const opts = parseArgs(argv);
const stdin = readFileSync(0);

rmSync(captureDir, { recursive: true, force: true });
mkdirSync(join(captureDir, 'preopens'), { recursive: true });

// Preopens in wizer's order: every --dir (guest path = host path), then every --mapdir.
const preopens = [
  ...opts.dirs.map((host) => ({ guest: host, host })),
  ...opts.mapdirs,
].map((p, i) => ({ ...p, copy: `preopens/${i}` }));

for (const p of preopens) {
  const bytes = treeBytes(p.host);
  if (bytes > MAX_COPY_BYTES) {
    fail(
      `preopen ${p.guest} -> ${p.host} holds ${bytes} bytes; ComponentizeJS maps the current ` +
        `directory as / when the source is below it, so run it from the source's own directory`,
    );
  }
  cpSync(p.host, join(captureDir, p.copy), { recursive: true });
}

const env = {};
const droppedEnv = [];
for (const key of Object.keys(process.env).sort()) {
  if (INIT_ENV.test(key)) env[key] = process.env[key];
  else droppedEnv.push(key);
}

copyFileSync(opts.input, join(captureDir, 'in.wasm'));
writeFileSync(join(captureDir, 'stdin.txt'), stdin);
writeFileSync(join(captureDir, 'env.json'), JSON.stringify(env, null, 2) + '\n');
writeFileSync(
  join(captureDir, 'manifest.json'),
  JSON.stringify(
    {
      argv,
      initFunc: opts.initFunc,
      flags: opts.flags,
      input: resolve(opts.input),
      output: resolve(opts.output),
      preopens,
      droppedEnv,
    },
    null,
    2,
  ) + '\n',
);

// Hand the un-initialized module back unchanged so ComponentizeJS continues.
copyFileSync(opts.input, opts.output);
