/**
 * Bundles the gateway into one ESM file (dist/gateway.mjs) so a Pi runs plain
 * JavaScript: no TypeScript loader in memory or on the start-up path. npm
 * packages stay external and load from node_modules.
 * `npm run build`, or called by the start command and the end-to-end tests.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const GATEWAY_BUNDLE = join(ROOT, 'dist', 'gateway.mjs');

/**
 * V8 limits for the gateway process: a small young generation and a capped
 * old one keep its resident memory under the 100 MB budget of a Pi gateway
 * (docs/BENCHMARKS.md); the heap it needs is far below the cap.
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;

let building: Promise<string> | undefined;

export function buildGateway(): Promise<string> {
  building ??= build({
    entryPoints: [join(ROOT, 'gateway', 'main.ts')],
    outfile: GATEWAY_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  }).then(() => GATEWAY_BUNDLE);
  return building;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildGateway()}`);
}
