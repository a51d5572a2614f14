// The pinned npm packages of this example (package.json, package-lock.json), installed into
// examples/js/node_modules when any is missing or differs. Used by build.mjs and
// componentize.mjs, which may run first on a fresh checkout.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

function die(msg) {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

export function checkNpm() {
  const r = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    die(`npm is missing or broken (${r.error?.code ?? `npm --version exited ${r.status}`}); it comes with Node 20+, put it on PATH`);
  }
}

/** Installs the pinned packages into examples/js/node_modules when any is missing or differs. */
export function ensureDeps() {
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8'));
  const stale = Object.entries(pkg.dependencies).filter(([name, version]) => {
    const file = join(HERE, 'node_modules', name, 'package.json');
    return !existsSync(file) || JSON.parse(readFileSync(file, 'utf8')).version !== version;
  });
  if (stale.length === 0) return;
  console.log(`== npm ci (missing or different: ${stale.map(([n]) => n).join(', ')})`);
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, encoding: 'utf8' });
  if (ci.status === 0) return;
  // npm 11 refuses `npm ci` for this tree: jco 1.35 lists optional per-platform
  // packages that were never published (e.g. @bytecodealliance/jco-node-fs-linux-arm64-musl@0.3.2),
  // and reports them as "Missing: ... from lock file". `npm install --no-save`
  // installs the same locked versions and leaves package-lock.json alone.
  const why = (ci.stderr ?? '').split('\n').filter((l) => /^npm error (code|Missing|`npm ci`)/.test(l));
  console.log(`   npm ci failed (${why.slice(0, 3).join(' / ') || `status ${ci.status}`}); npm install --no-save`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'inherit' });
  if (r.status !== 0) die(`npm install failed (status ${r.status}) in ${HERE}`);
}

