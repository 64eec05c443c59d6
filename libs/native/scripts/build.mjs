#!/usr/bin/env node
// Compiles the optional native kernels (csrc/*.cc) into build/s2g_native.node with the machine's C++
// compiler and Node's own headers: no download. Run by the root package's postinstall with
// --optional, where a missing compiler or headers only prints a note: the kernels are an optional
// fast path, and everything works (slower) on the wasm backend without them.
//
//   node libs/native/scripts/build.mjs [--optional] [--force] [--help]
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const csrc = join(root, 'csrc');
const outDir = join(root, 'build');
const target = join(outDir, 's2g_native.node');
const stampFile = join(outDir, 'stamp.json');
const args = new Set(process.argv.slice(2));

if (args.has('--help') || args.has('-h')) {
  console.log(`Builds the optional native kernels: libs/native/build/s2g_native.node

Usage: node libs/native/scripts/build.mjs [--optional] [--force]

  --optional   never fail: print why the build was skipped and exit 0 (used by postinstall)
  --force      rebuild even when the sources and Node version are unchanged
  --help       this text

Environment: CXX (compiler, default c++ / g++ / clang++), S2G_NODE_HEADERS (folder holding
node_api.h), S2G_NATIVE_BUILD=0 (skip the build).`);
  process.exit(0);
}

const optional = args.has('--optional');

function note(message) {
  console.log(`s2g native kernels: ${message}`);
}

function headerCandidates() {
  const prefix = dirname(dirname(process.execPath));
  return [
    process.env.S2G_NODE_HEADERS,
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
}

async function findCompiler() {
  for (const cxx of [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean)) {
    try {
      await run(cxx, ['--version']);
      return cxx;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const UNITS = [
  { file: 'addon.cc', flags: [] },
  { file: 'gemm_generic.cc', flags: [] },
  { file: 'gemm_avx2.cc', flags: ['-mavx2', '-mfma'], x64: true },
  { file: 'gemm_avx512.cc', flags: ['-mavx512f'], x64: true },
];

async function main() {
  if (process.env.S2G_NATIVE_BUILD === '0') return note('skipped (S2G_NATIVE_BUILD=0)');
  if (process.platform === 'win32') return note('skipped: Windows builds are not supported; the wasm kernels are used');
  const headers = headerCandidates().find((d) => existsSync(join(d, 'node_api.h')));
  if (!headers) throw new Error(`Node's headers (node_api.h) not found in ${headerCandidates().join(', ')}; set S2G_NODE_HEADERS`);
  const cxx = await findCompiler();
  if (!cxx) throw new Error('no C++ compiler found (set CXX, or install g++ / clang++)');

  const x64 = process.arch === 'x64';
  const units = UNITS.filter((u) => x64 || !u.x64);
  const hash = createHash('sha256');
  for (const name of ['addon.cc', 'gemm.h', 'gemm_impl.h', ...units.map((u) => u.file)]) hash.update(readFileSync(join(csrc, name)));
  hash.update(`${process.versions.napi} ${process.platform} ${process.arch} ${cxx}`);
  const stamp = hash.digest('hex');
  if (!args.has('--force') && existsSync(target) && existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')).stamp === stamp) {
    return note(`up to date (${target})`);
  }

  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(outDir, 'tmp-'));
  try {
    const common = ['-O3', '-std=gnu++17', '-fPIC', '-fvisibility=hidden', `-I${headers}`];
    const objects = await Promise.all(
      units.map(async (u) => {
        const obj = join(work, u.file.replace(/\.cc$/, '.o'));
        await run(cxx, [...common, ...u.flags, '-c', join(csrc, u.file), '-o', obj]);
        return obj;
      }),
    );
    const link = ['-shared', '-pthread', ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []), '-o', join(work, 'out.node'), ...objects];
    await run(cxx, link);
    // Rename into place: a failed or interrupted build never leaves a half-written addon behind.
    renameSync(join(work, 'out.node'), target);
    writeFileSync(stampFile, JSON.stringify({ stamp, compiler: cxx, node: process.version }) + '\n');
    note(`built ${target} (${x64 ? 'generic, avx2, avx512' : 'generic'})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  const message = (e instanceof Error ? (e.stderr || e.message) : String(e)).toString().trim().split('\n').slice(0, 6).join('\n');
  if (optional) {
    note(`not built, the wasm kernels will be used instead: ${message}`);
  } else {
    console.error(`s2g native kernels: build failed: ${message}`);
    process.exit(1);
  }
}
