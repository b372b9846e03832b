// Builds dist/anvil.mjs: the `anvil` command as one JavaScript file, so that production runs it
// with plain `node` and does not pay tsx at run time (a loader thread with its own heap, the
// transpiled sources and their source maps, and an esbuild service process: about 50 MiB).
// The npm packages stay outside the bundle, loaded from node_modules as usual.
// Run by `npm install` (prepare) and scripts/setup.sh; `npm run build` runs it by hand.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(ROOT, 'dist', 'anvil.mjs');

/**
 * Each source keeps its own import.meta.url, so the files it finds beside it (the migrations
 * folder, a simulator's data) are read from the source tree the bundle was built from.
 */
const ownUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

/**
 * Bundles bin/cli.ts into `outfile` (with a source map beside it, read only on
 * --enable-source-maps); it must sit in the repository, where its imports find node_modules.
 */
export async function bundle(outfile = BUNDLE): Promise<void> {
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
    plugins: [ownUrl],
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
  process.stdout.write(`built ${path.relative(process.cwd(), BUNDLE)}\n`);
}
