/**
 * Multi-threaded wasm backend under Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build whose Emscripten glue already supports Node's
 * worker_threads, but tfjs never uses it there: its WASM_HAS_MULTITHREAD_SUPPORT flag is false under
 * Node, and its loader hands the glue two browser-only things, a `blob:` URL for the pthread worker
 * script and a `Blob` for the main script each worker imports. Node's `Worker` cannot start from a
 * `blob:` URL and the worker's `importScripts` reads files. So, for the duration of the backend's
 * initialisation only, `Blob` (for JavaScript blobs) and `URL.createObjectURL` are replaced: each
 * script is written to a private temporary file and its path stands in for the URL; a prelude in
 * the worker script resolves the main-script "blob" (a plain `{ path }` after structured cloning)
 * to its path as well. The main script is the glue's factory function, whose bundle-level helpers
 * (tslib's `__values`, the `fs`/`path`/... requires) the prelude defines. Workers are `unref`'d so
 * they do not keep the process alive. Last, the backend caps its thread pool at half of
 * `emscripten_num_logical_cores()` (it assumes two hyperthreads per core), which under Node is
 * `os.cpus().length`; while initialising, `os.cpus()` reports `2 x threads` entries so the pool gets
 * the `threads` asked for with `setThreadsCount`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';

/** Defines, inside each pthread worker, what the threaded glue's source expects from its bundle. */
const PRELUDE = `
var __s2gUrl = globalThis.URL;
if (!__s2gUrl.__s2gPatched) {
  var __s2gCreate = __s2gUrl.createObjectURL.bind(__s2gUrl);
  var __s2gRevoke = __s2gUrl.revokeObjectURL.bind(__s2gUrl);
  __s2gUrl.createObjectURL = function (b) { return b && typeof b.s2gScriptPath === 'string' ? b.s2gScriptPath : __s2gCreate(b); };
  __s2gUrl.revokeObjectURL = function (u) { if (typeof u === 'string' && u.startsWith('blob:')) __s2gRevoke(u); };
  __s2gUrl.__s2gPatched = true;
}
var require$$0 = require('fs');
var require$$1 = require('path');
var require$$3 = require('perf_hooks');
var require$$4 = require('os');
var commonjsGlobal = globalThis;
var __values = function (o) {
  var s = typeof Symbol === 'function' && Symbol.iterator, m = s && o[s], i = 0;
  if (m) return m.call(o);
  if (o && typeof o.length === 'number') return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } };
  throw new TypeError(s ? 'Object is not iterable.' : 'Symbol.iterator is not defined.');
};
var __read = function (o, n) {
  var m = typeof Symbol === 'function' && o[Symbol.iterator];
  if (!m) return o;
  var i = m.call(o), r, ar = [], e;
  try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); }
  catch (error) { e = { error: error }; }
  finally { try { if (r && !r.done && (m = i['return'])) m.call(i); } finally { if (e) throw e.error; } }
  return ar;
};
var __spreadArray = function (to, from, pack) {
  if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
    if (ar || !(i in from)) { if (!ar) ar = Array.prototype.slice.call(from, 0, i); ar[i] = from[i]; }
  }
  return to.concat(ar || Array.prototype.slice.call(from));
};
`;

/** The directory of the scripts written (one per process), and each script's path by content. */
let scriptDir: string | undefined;
let scriptCount = 0;
const scriptPaths = new Map<string, string>();
/** The pthread workers started. */
const workers = new Set<NodeWorker>();
let exitHook = false;

function writeScript(text: string): string {
  const known = scriptPaths.get(text);
  if (known !== undefined) return known;
  if (scriptDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 's2g-wasm-threads-'));
    scriptDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const path = join(scriptDir, `script-${scriptCount++}.cjs`);
  // Keep a leading "use strict" directive first.
  const strict = /^\s*["']use strict["'];/.exec(text);
  writeFileSync(path, strict ? `${strict[0]}${PRELUDE}${text.slice(strict[0].length)}` : `${PRELUDE}${text}`);
  scriptPaths.set(text, path);
  return path;
}

interface ScriptBlob {
  s2gScriptPath: string;
}

/**
 * Runs `init` (which must initialise the wasm backend) with the browser shims described above in
 * place, and removes them afterwards.
 */
export async function withNodeWasmThreadShims<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL.bind(URL);
  const hadWorker = Object.prototype.hasOwnProperty.call(g, 'Worker');
  const previousWorker = g.Worker;

  function ShimBlob(this: unknown, parts: unknown[], options?: { type?: string }): Blob | ScriptBlob {
    const type = options?.type ?? '';
    if (/javascript/.test(type) && parts.every((p) => typeof p === 'string')) {
      return { s2gScriptPath: writeScript(parts.join('')) };
    }
    return new RealBlob(parts as ConstructorParameters<typeof Blob>[0], options);
  }
  class UnrefWorker extends NodeWorker {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args);
      this.unref();
      workers.add(this);
      if (!exitHook) {
        exitHook = true;
        // A pthread parked in the pool can hold up Node's own teardown of the worker at exit.
        process.once('exit', () => {
          for (const w of workers) void w.terminate();
        });
      }
    }
  }

  const realCpus = os.cpus;
  os.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  };
  g.Blob = ShimBlob;
  URL.createObjectURL = (obj: Blob | ScriptBlob) => ('s2gScriptPath' in obj ? obj.s2gScriptPath : realCreate(obj));
  // The glue assigns Node's Worker to the global; keep ours, which does not hold the process open.
  Object.defineProperty(g, 'Worker', { configurable: true, get: () => UnrefWorker, set: () => undefined });
  try {
    return await init();
  } finally {
    os.cpus = realCpus;
    // The glue refs each worker while it loads the module; unref them again once loaded.
    for (const w of workers) w.unref();
    g.Blob = RealBlob;
    URL.createObjectURL = realCreate;
    delete g.Worker;
    if (hadWorker) g.Worker = previousWorker;
  }
}
