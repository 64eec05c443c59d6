// Container health probe that needs nothing but node (slim images have no curl or wget):
//   node healthcheck.cjs [/path]   GET http://127.0.0.1:$HTTP_PORT/path (default /healthz), exit 0 on 2xx.
// CommonJS on purpose: a standalone script, independent of the bundle's module settings.
'use strict';

const path = process.argv[2] || '/healthz';
const port = process.env.HTTP_PORT || '8080';
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
