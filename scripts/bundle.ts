// Builds dist/anvil.mjs: the `anvil` command as compiled JavaScript, so that production runs it
// with plain `node` and does not pay tsx at run time (a loader thread with its own heap, the
// transpiled sources and their source maps, and an esbuild service process: about 50 MiB).
// Each dynamic import() of the sources becomes a chunk of its own (dist/chunks/), loaded when the
// code runs it, so a process loads only what its sub-command and configuration use.
// The npm packages stay outside the bundle, loaded from node_modules as usual.
// Run by `npm install` (prepare) and scripts/setup.sh; `npm run build` runs it by hand.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
export const BUNDLE = path.join(DIST, 'anvil.mjs');

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
 * Bundles bin/cli.ts into `outdir`/anvil.mjs and its chunks into `outdir`/chunks (each with a
 * source map beside it, read only on --enable-source-maps); `outdir` must sit in the repository,
 * where the imports find node_modules. Chunks of an earlier build are removed: their names hold
 * their content's hash.
 */
export async function bundle(outdir = DIST): Promise<void> {
  const result = await build({
    entryPoints: { anvil: path.join(ROOT, 'bin', 'cli.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    legalComments: 'none',
    plugins: [ownUrl],
    logLevel: 'warning',
    metafile: true,
  });
  const built = new Set(Object.keys(result.metafile.outputs).map((f) => path.resolve(ROOT, f)));
  const chunks = path.join(outdir, 'chunks');
  for (const name of await readdir(chunks)) {
    const file = path.join(chunks, name);
    if (!built.has(file.replace(/\.map$/, ''))) await rm(file);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
  process.stdout.write(`built ${path.relative(process.cwd(), BUNDLE)}\n`);
}
