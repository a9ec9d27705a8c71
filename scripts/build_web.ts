// Bundles the browser page (src/web/main.ts → dist/web/main.js, with index.html beside it),
// and serves a directory on 127.0.0.1 for the browser test or for a person to look at.
//   npx tsx scripts/build_web.ts                      build dist/web
//   npx tsx scripts/build_web.ts --serve [--port N]   build, then serve it until Ctrl-C
//
// The page shares every module with Node except the adapter: src/gpu/device.ts imports
// ./node_adapter.ts (Dawn, `process`, env variables) only behind a Node check. The bundle
// replaces that module with a stub that throws, so no Node-only code ships to the browser,
// and keeps `webgpu` and `node:*` external as a second guard: if a new import pulls them in,
// the page fails loudly at that import instead of bundling Dawn's loader.
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_OUT_DIR = join(root, 'dist/web');

/** Resolves `./node_adapter.ts` (imported by src/gpu/device.ts) to a throwing stub. */
const nodeOnlyStub: Plugin = {
  name: 'gradvar-node-only-stub',
  setup(b) {
    b.onResolve({ filter: /(^|\/)node_adapter(\.ts)?$/ }, (args) => ({ path: args.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({
      loader: 'ts',
      contents:
        'export async function nodeAdapter(): Promise<never> {\n' +
        "  throw new Error('node_adapter is Node-only; in a browser requestGpu() uses navigator.gpu');\n" +
        '}\n',
    }));
  },
};

export interface BuildResult {
  outDir: string;
  /** bytes of main.js */
  bundleBytes: number;
}

/** Builds dist/web from scratch. Throws (with esbuild's messages) if the bundle fails. */
export async function buildWeb(opts: { outDir?: string; minify?: boolean } = {}): Promise<BuildResult> {
  const outDir = opts.outDir ?? WEB_OUT_DIR;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'src/web/main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: opts.minify ?? false,
    external: ['webgpu', 'node:*'],
    plugins: [nodeOnlyStub],
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'src/web/index.html'), join(outDir, 'index.html'));
  return { outDir, bundleBytes: statSync(join(outDir, 'main.js')).size };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wgsl': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` read-only on 127.0.0.1 (`port` 0 picks a free one). No caching, so a
 *  rebuilt bundle is what the next load gets. */
export function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = resolve(base, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    // Never serve anything outside `dir`, whatever `..` the request carries.
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolveServer({
        url: `http://127.0.0.1:${bound}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections(); // keep-alive sockets would hold close() open
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const { outDir, bundleBytes } = await buildWeb();
  console.log(`built ${outDir} (main.js ${(bundleBytes / 1024).toFixed(1)} KiB)`);
  if (args.includes('--serve')) {
    const at = args.indexOf('--port');
    const port = at >= 0 ? Number(args[at + 1]) : 8080;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port wants 0..65535, got '${args[at + 1]}'`);
    const { url } = await serveStatic(outDir, port);
    console.log(`serving ${url} (Ctrl-C stops; on Linux, Chromium needs --enable-unsafe-webgpu)`);
  }
}
