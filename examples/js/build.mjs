#!/usr/bin/env node
// Pre-initializes a real ComponentizeJS component with compsnap and checks it
// against the component ComponentizeJS pre-initializes with Wizer.
//
//   node build.mjs [OUT_DIR] [--capture-only] [--compsnap PATH]
//
// OUT_DIR defaults to examples/js/out. compsnap is --compsnap PATH, else
// $COMPSNAP, else target/release/compsnap or target/debug/compsnap of this
// repository, else `compsnap` on PATH. See README.md in this directory.
//
// Steps (every run first deletes all the outputs below, then writes them anew):
//   1. reference  ComponentizeJS as usual (Wizer)            -> hello.ref.wasm
//   2. capture    ComponentizeJS with capture-wizer.mjs      -> capture/
//   3. uninit     the captured core module + the preview1 reactor adapter,
//                 without stubWasi, as componentize.js does  -> hello.uninit.wasm
//   4. command    the compsnap command line                  -> compsnap.args, compsnap.sh,
//                                                               init-stdin.txt
//   --capture-only stops here.
//   5. compsnap   compsnap.sh                                -> hello.snap.wasm, hello.snap.log
//   6. check      jco transpile + Node: the same calls on
//                 hello.ref.wasm, hello.snap.wasm and app/hello.js -> transpiled/, results.json
// summary.json (timings, sizes, hashes) is written in both modes.
// Exit status: 0 when everything ran and every component matched app/hello.js,
// 1 when compsnap failed or a component differed, 2 on a usage or setup error.

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (!(NODE_MAJOR >= 20)) {
  process.stderr.write(`build.mjs: needs Node 20 or later; this is Node ${process.version} (${process.execPath})\n`);
  process.exit(2);
}

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALLS, wave } from './run-component.mjs';
import { checkNpm, ensureDeps } from './deps.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const APP = join(HERE, 'app');
const SOURCE = join(APP, 'hello.js');
const WIT = join(APP, 'wit', 'hello.wit');
const WORLD = 'hello';
/** Features ComponentizeJS turns off for this component (it makes no HTTP calls). */
const DISABLE_FEATURES = ['http', 'fetch-event'];
/** Guest parent for ComponentizeJS's `--dir` preopens: its temporary `sources` has a random path. */
const DIR_GUEST_PARENT = '/componentize-js';
/** The core export ComponentizeJS's Wizer run calls. */
const INIT_FUNC = 'componentize.wizer';
const INPUT = 'hello.uninit.wasm';
const SNAPSHOT = 'hello.snap.wasm';
const REFERENCE = 'hello.ref.wasm';
const USAGE = 'usage: node build.mjs [OUT_DIR] [--capture-only] [--compsnap PATH]';

/**
 * Everything this script writes into OUT (and what earlier versions wrote there). All of it
 * is deleted before a run, so a rerun never leaves a stale file next to fresh ones.
 */
const OUTPUTS = [
  'capture',
  REFERENCE,
  INPUT,
  'init-stdin.txt',
  'compsnap.args',
  'compsnap.sh',
  SNAPSHOT,
  'hello.snap.log',
  'transpiled',
  'results.json',
  'summary.json',
  // earlier versions
  'compsnap-args.json',
  'hello.uninit-nohttp.wasm',
  'hello.snap-nohttp.wasm',
  'hello.snap-nohttp.log',
  'hello.snap-nohttp.adapter-reset.wasm',
];

// ---------------------------------------------------------------------------

function die(msg) {
  process.stderr.write(`build.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: join(HERE, 'out'), compsnap: null, captureOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--compsnap') {
      if (i + 1 >= argv.length) die(`--compsnap needs a path\n${USAGE}`);
      opts.compsnap = resolve(argv[++i]);
    } else if (a.startsWith('--compsnap=')) opts.compsnap = resolve(a.slice('--compsnap='.length));
    else if (a === '--capture-only') opts.captureOnly = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) die(`unknown option ${a}\n${USAGE}`);
    else opts.out = resolve(a); // against the caller's directory: this runs before the chdir below
  }
  const inApp = relative(APP, opts.out);
  if (!inApp.startsWith('..') && !isAbsolute(inApp)) {
    // ComponentizeJS preopens app/ for the init, and capture-wizer.mjs copies it.
    die(`OUT_DIR ${opts.out} is inside ${APP}; choose another directory`);
  }
  return opts;
}

const timings = {};
async function step(name, fn) {
  console.log(`== ${name}`);
  const t = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - t);
    console.log(`   ${name}: ${(timings[name] / 1000).toFixed(1)} s`);
  }
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first compsnap binary that has `--stdin` (ComponentizeJS's init reads its arguments from stdin). */
function findCompsnap(explicit) {
  if (explicit && !existsSync(explicit)) return { path: null, why: `--compsnap ${explicit}: no such file` };
  const candidates = [
    explicit,
    process.env.COMPSNAP && resolve(process.env.COMPSNAP),
    join(REPO, 'target', 'release', 'compsnap'),
    join(REPO, 'target', 'debug', 'compsnap'),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => resolve(d, 'compsnap')),
  ].filter((c) => c && existsSync(c) && statSync(c).isFile());
  const tried = [];
  for (const c of [...new Set(candidates)]) {
    const help = spawnSync(c, ['--help'], { encoding: 'utf8' }).stdout ?? '';
    if (help.includes('--stdin')) return { path: c };
    tried.push(c);
    if (c === explicit) break;
  }
  return {
    path: null,
    why: tried.length
      ? `no compsnap with --stdin (tried ${tried.join(', ')})`
      : 'no compsnap binary found (give --compsnap PATH or set $COMPSNAP)',
  };
}

function shellQuote(s) {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Shell lines for an argument list: each option with its value on one line. */
function shellLines(args) {
  const lines = [];
  for (const a of args) {
    if (a.startsWith('-') || lines.length === 0) lines.push([a]);
    else lines[lines.length - 1].push(a);
  }
  return lines.map((l) => `  ${l.map(shellQuote).join(' ')} \\`).join('\n');
}

// ---------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const OUT = opts.out;
const CAPTURE = join(OUT, 'capture');
const started = performance.now();
checkNpm();
ensureDeps();

// In full mode, find compsnap before the slow steps.
const compsnap = opts.captureOnly ? null : findCompsnap(opts.compsnap);
if (compsnap && !compsnap.path) {
  die(`${compsnap.why}; use --capture-only to stop after writing compsnap.args and compsnap.sh`);
}

const { componentize, DEFAULT_FEATURES } = await import('@bytecodealliance/componentize-js');
const { componentNew, metadataAdd, preview1AdapterReactorPath, transpile } = await import(
  '@bytecodealliance/jco'
);
const componentizeVersion = JSON.parse(
  readFileSync(join(HERE, 'node_modules/@bytecodealliance/componentize-js/package.json'), 'utf8'),
).version;
const features = DEFAULT_FEATURES.filter((f) => !DISABLE_FEATURES.includes(f));

await mkdir(OUT, { recursive: true });
await Promise.all(OUTPUTS.map((f) => rm(join(OUT, f), { recursive: true, force: true })));

// ComponentizeJS preopens the directory above the source as `/`, and when the
// source lies below the current directory, the current directory itself; it
// also passes that directory to the engine as `--strip-path-prefix`. Run it from
// app/ so that directory is app/, whatever the caller's directory is.
process.chdir(APP);

// The WIT goes in as text (witWorld), not as a path: the splicer runs under
// @bytecodealliance/preview2-shim, and the 0.26 shim gives Node no default
// preopens, so with witPath it fails with "reading file .../hello.wit ...
// No such file or directory (os error 44)".
const componentizeOpts = {
  sourcePath: SOURCE,
  witWorld: await readFile(WIT, 'utf8'),
  worldName: WORLD,
  disableFeatures: DISABLE_FEATURES,
};

// 1. The reference: ComponentizeJS with its own Wizer.
await step('reference', async () => {
  const { component } = await componentize(componentizeOpts);
  await writeFile(join(OUT, REFERENCE), component);
});

// 2. The capture: ComponentizeJS with capture-wizer.mjs in Wizer's place.
const captureResult = await step('capture', async () => {
  let error = null;
  try {
    await componentize({
      ...componentizeOpts,
      wizerBin: join(HERE, 'capture-wizer.mjs'),
      // ComponentizeJS runs Wizer with exactly this env plus its own variables;
      // capture-wizer.mjs keeps only ComponentizeJS's variables in env.json.
      // The node running this script comes first on PATH for capture-wizer.mjs's `#!/usr/bin/env node`.
      env: {
        COMPSNAP_CAPTURE_DIR: CAPTURE,
        PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter),
      },
    });
  } catch (e) {
    // Whatever fails after capture-wizer.mjs has run (check_init accepts the
    // un-initialized module in 0.23, but may not in later versions), the capture is complete.
    error = String(e?.message ?? e);
  }
  if (!existsSync(join(CAPTURE, 'manifest.json'))) {
    throw new Error(`capture-wizer.mjs left no capture in ${CAPTURE}${error ? `: ${error}` : ''}`);
  }
  console.log(
    error
      ? `   ComponentizeJS failed after the capture (expected): ${error.split('\n')[0]}`
      : '   ComponentizeJS finished: check_init accepts the un-initialized module',
  );
  return { componentizeError: error };
});

const manifest = JSON.parse(await readFile(join(CAPTURE, 'manifest.json'), 'utf8'));
const captureEnv = JSON.parse(await readFile(join(CAPTURE, 'env.json'), 'utf8'));
if (manifest.initFunc !== INIT_FUNC) {
  throw new Error(`ComponentizeJS asked for init function ${manifest.initFunc}, expected ${INIT_FUNC}`);
}

// 3. The un-initialized component, built as componentize.js builds its output
//    (componentNew with the preview1 reactor adapter, then metadataAdd), but
//    from the module before Wizer and without stubWasi: the init needs WASI,
//    and compsnap stubs what its WASI lacks (wasi:http).
await step('uninit', async () => {
  const core = await readFile(join(CAPTURE, 'in.wasm'));
  const adapter = await readFile(preview1AdapterReactorPath());
  const component = await metadataAdd(
    await componentNew(core, Object.entries({ wasi_snapshot_preview1: adapter }), false),
    Object.entries({
      language: [['JavaScript', '']],
      'processed-by': [['ComponentizeJS', componentizeVersion]],
    }),
  );
  await writeFile(join(OUT, INPUT), component);
});

// 4. The compsnap command line: Wizer's init, with the same env, stdin and preopens.
const preopens = manifest.preopens.map((p) => ({
  host: relative(OUT, join(CAPTURE, p.copy)),
  // `--dir X` preopens X as X; `--mapdir /::APP` (the source's directory) keeps its `/`.
  guest: p.guest === p.host && p.guest !== '/' ? `${DIR_GUEST_PARENT}/${basename(p.guest)}` : p.guest,
  originalGuest: p.guest,
}));
const initArgs = [
  '--allow-wasi',
  '-f',
  INIT_FUNC,
  ...preopens.flatMap((p) => ['--dir', `${p.host}::${p.guest}`]),
  ...Object.entries(captureEnv).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  '--stdin',
  'init-stdin.txt',
];
const calls = CALLS.map(wave);
await step('command', async () => {
  // The runtime args name ComponentizeJS's random work directory; give it its
  // fixed guest path. The rest (`--strip-path-prefix APP/ hello.js`) stays as
  // ComponentizeJS wrote it for the reference.
  let stdin = await readFile(join(CAPTURE, 'stdin.txt'), 'utf8');
  for (const p of preopens) {
    if (p.guest !== p.originalGuest) stdin = stdin.split(p.originalGuest).join(p.guest);
  }
  await writeFile(join(OUT, 'init-stdin.txt'), stdin);

  const bad = [...initArgs, ...calls].find((a) => /[\r\n]/.test(a) || a.trim() !== a || a === '');
  if (bad !== undefined) throw new Error(`cannot write ${JSON.stringify(bad)} as one line of compsnap.args`);
  await writeFile(
    join(OUT, 'compsnap.args'),
    [
      "# written by examples/js/build.mjs: one compsnap argument per line; '#' lines are for tests",
      `#input ${INPUT}`,
      `#reference ${REFERENCE}`,
      ...calls.map((c) => `#call ${c}`),
      ...initArgs,
      '',
    ].join('\n'),
  );

  const script = [
    '#!/bin/sh',
    '# Generated by examples/js/build.mjs from the list in compsnap.args. Runs',
    "# ComponentizeJS's Wizer init on hello.uninit.wasm with compsnap ($COMPSNAP, else `compsnap`):",
    '#   compsnap.sh [OUTPUT] [more compsnap options]   snapshot; OUTPUT defaults to hello.snap.wasm',
    '#   compsnap.sh verify [more options]              compsnap verify with the #call lines',
    '# Paths are relative to the directory of this script.',
    'set -e',
    'compsnap=${COMPSNAP:-compsnap}',
    'case $compsnap in */*) compsnap=$(cd "$(dirname "$compsnap")" && pwd)/$(basename "$compsnap");; esac',
    'cd "$(dirname "$0")"',
    'if [ "$1" = verify ]; then',
    '  shift',
    `  exec "$compsnap" verify ${INPUT} \\`,
    shellLines(initArgs).replace(/^/gm, '  '),
    ...calls.map((c) => `    --call ${shellQuote(c)} \\`),
    '    "$@"',
    'fi',
    `out=${SNAPSHOT}`,
    'case "$1" in -*|"") ;; *) out=$1; shift;; esac',
    `exec "$compsnap" ${INPUT} -o "$out" \\`,
    shellLines(initArgs),
    '  "$@"',
    '',
  ].join('\n');
  await writeFile(join(OUT, 'compsnap.sh'), script);
  await chmod(join(OUT, 'compsnap.sh'), 0o755);
  console.log(`   ${join(OUT, 'compsnap.args')}\n   ${join(OUT, 'compsnap.sh')}`);
});

// 5. compsnap itself, through compsnap.sh.
let compsnapRun = null;
if (compsnap) {
  await step('compsnap', async () => {
    const r = spawnSync(join(OUT, 'compsnap.sh'), ['-v'], {
      encoding: 'utf8',
      env: { ...process.env, COMPSNAP: compsnap.path },
    });
    const status = r.status ?? `signal ${r.signal}`;
    const log = `$ COMPSNAP=${compsnap.path} ./compsnap.sh -v\n${r.stdout}${r.stderr}exit status ${status}\n`;
    await writeFile(join(OUT, 'hello.snap.log'), log);
    compsnapRun = { status, ok: r.status === 0 && existsSync(join(OUT, SNAPSHOT)) };
    if (compsnapRun.ok) console.log(`   ok: ${SNAPSHOT}`);
    else console.log(`   compsnap failed (status ${status}), see hello.snap.log:\n${(r.stderr ?? '').replace(/^/gm, '   | ')}`);
  });
}

// 6. The check: the same calls on each component and on hello.js under Node.
const results = {};
let failures = 0;
if (compsnap) {
  await step('check', async () => {
    const tdir = join(OUT, 'transpiled');
    await mkdir(tdir, { recursive: true });
    // Let the transpiled modules find preview2-shim, and load as ES modules, wherever OUT is.
    await symlink(join(HERE, 'node_modules'), join(tdir, 'node_modules'), 'dir');
    await writeFile(join(tdir, 'package.json'), '{ "type": "module" }\n');

    const run = (modulePath) => {
      const r = spawnSync(process.execPath, [join(HERE, 'run-component.mjs'), modulePath], {
        encoding: 'utf8',
        cwd: tdir,
        timeout: 300_000,
      });
      const lines = (r.stdout ?? '').split('\n');
      const resultLine = lines.find((l) => l.startsWith('RESULT '));
      return {
        calls: resultLine ? JSON.parse(resultLine.slice(7)) : [{ call: 'run', error: r.stderr || `status ${r.status}` }],
        stdout: lines.filter((l) => !l.startsWith('RESULT ') && l !== '').join('\n'),
        stderr: (r.stderr ?? '').trim(),
      };
    };

    results.expected = run(SOURCE);
    for (const file of [REFERENCE, SNAPSHOT]) {
      const name = file.replace(/\.wasm$/, '');
      if (!existsSync(join(OUT, file))) {
        results[name] = { calls: [{ call: 'transpile', error: `${file} is missing` }], stdout: '', stderr: '' };
        continue;
      }
      const { files } = await transpile(await readFile(join(OUT, file)), { name: 'component', noTypescript: true, quiet: true });
      for (const [f, bytes] of Object.entries(files)) {
        await mkdir(dirname(join(tdir, name, f)), { recursive: true });
        await writeFile(join(tdir, name, f), bytes);
      }
      results[name] = run(join(tdir, name, 'component.js'));
    }

    const expected = JSON.stringify(results.expected.calls);
    for (const [name, r] of Object.entries(results)) {
      if (name === 'expected') continue;
      r.matchesExpected = JSON.stringify(r.calls) === expected && r.stdout === results.expected.stdout;
      if (!r.matchesExpected) failures++;
      console.log(`   ${r.matchesExpected ? 'PASS' : 'FAIL'} ${name}.wasm`);
      if (!r.matchesExpected) {
        for (const [i, c] of r.calls.entries()) {
          const want = results.expected.calls[i];
          if (JSON.stringify(c) !== JSON.stringify(want)) {
            console.log(`     ${c.call}: got ${JSON.stringify(c.value ?? c.error)}, want ${JSON.stringify(want?.value)}`);
          }
        }
        if (r.stdout !== results.expected.stdout) {
          console.log(`     stdout: got ${JSON.stringify(r.stdout)}, want ${JSON.stringify(results.expected.stdout)}`);
        }
      }
    }
    await writeFile(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  });
}

// Summary.
timings.total = Math.round(performance.now() - started);
const files = {};
for (const f of ['capture/in.wasm', REFERENCE, INPUT, SNAPSHOT]) {
  const p = join(OUT, f);
  if (existsSync(p)) {
    const bytes = readFileSync(p);
    files[f] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
}
const failed = compsnap !== null && (!compsnapRun?.ok || failures > 0);
const summary = {
  mode: opts.captureOnly ? 'capture-only' : 'full',
  node: process.version,
  componentizeJs: componentizeVersion,
  features,
  compsnap: compsnap?.path ?? null,
  compsnapVersion: compsnap ? spawnSync(compsnap.path, ['--version'], { encoding: 'utf8' }).stdout?.trim() : null,
  compsnapStatus: compsnapRun?.status ?? null,
  checkFailures: compsnap ? failures : null,
  ok: !failed,
  timingsMs: timings,
  captureComponentizeError: captureResult.componentizeError,
  files,
};
await writeFile(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`== summary: ${join(OUT, 'summary.json')} (total ${(timings.total / 1000).toFixed(1)} s)`);
for (const [f, { bytes }] of Object.entries(files)) console.log(`   ${String(bytes).padStart(9)}  ${f}`);
if (opts.captureOnly) {
  console.log(`   next: cd ${OUT} && COMPSNAP=/path/to/compsnap ./compsnap.sh (or ./compsnap.sh verify)`);
}
if (failed) console.log(`== FAILED: ${!compsnapRun?.ok ? 'compsnap' : `${failures} component(s) differ from app/hello.js`}`);
process.exit(failed ? 1 : 0);
