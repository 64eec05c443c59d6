// Bundles one app into dist/apps/<name>/main.js: our libs are inlined (TypeScript sources through
// tsconfig paths), every npm package stays external and is loaded from node_modules at run time.
import { build } from 'esbuild';
import { argv, exit } from 'node:process';

const name = argv[2];
if (!name) {
  console.error('usage: node tools/build-app.mjs <app>');
  exit(2);
}
await build({
  entryPoints: [`apps/${name}/src/main.ts`],
  outfile: `dist/apps/${name}/main.js`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  tsconfig: `apps/${name}/tsconfig.json`,
  banner: { js: "import { createRequire as __s2gCreateRequire } from 'node:module'; const require = __s2gCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'externalise-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@s2g/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
});
console.log(`built dist/apps/${name}/main.js`);
