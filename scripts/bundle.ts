// Builds dist/anvil.mjs: the `anvil` command as one JavaScript file, so that production runs it
// with plain `node` and does not pay tsx at run time (a loader thread with its own heap, the
// transpiled sources and their source maps, and an esbuild service process: about 50 MiB).
// The npm packages stay outside the bundle, loaded from node_modules as usual.
// Run by `npm install` (prepare) and scripts/setup.sh; `npm run build` runs it by hand.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(ROOT, 'dist', 'anvil.mjs');

/**
 * Bundles bin/cli.ts into `outfile` (with a source map beside it, read only on
 * --enable-source-maps); it must sit in the repository, where its imports find node_modules.
 */
export async function bundle(outfile = BUNDLE): Promise<void> {
  // The migrations are imported by name at run time (db/index.ts): the bundle holds all of them
  // and is told their names, since it cannot list a folder of sources it no longer reads.
  const migrations = readdirSync(path.join(ROOT, 'db', 'migrations')).filter((f) => /^\d+_.*\.ts$/.test(f)).sort();
  await build({
    entryPoints: [path.join(ROOT, 'bin', 'cli.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    legalComments: 'none',
    define: { ANVIL_BUNDLED_MIGRATIONS: JSON.stringify(migrations) },
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
  process.stdout.write(`built ${path.relative(process.cwd(), BUNDLE)}\n`);
}
