// Bundles the playground into ../dist (index.html, graphiql.js, graphiql.css),
// which is committed and embedded by ../playground.go so a Go-only build
// needs neither Node nor the network.
//
// Usage: npm ci && npm run build
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';

const dist = new URL('../dist/', import.meta.url);

// Start from an empty directory so nothing stale ends up embedded.
await rm(dist, { recursive: true, force: true });
await mkdir(dist);

// graphql-ws (the client of the graphql-transport-ws protocol, pinned in the
// lock file) is bundled like everything else: subscriptions connect to this
// page's own origin, and nothing is fetched from anywhere else at run time.
await esbuild.build({
  entryPoints: { graphiql: new URL('src/index.jsx', import.meta.url).pathname },
  outdir: dist.pathname,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'eof',
  logLevel: 'info',
});

await copyFile(new URL('src/index.html', import.meta.url), new URL('index.html', dist));

// graphiql.css inlines its fonts (Roboto, Fira Code) and CodeMirror's lint
// icons as data: URLs, which a `default-src 'self'` Content-Security-Policy
// blocks. Move each into its own file next to the stylesheet, so they load
// from the same origin. Names follow the order in the CSS: stable for a given
// GraphiQL version.
const cssFile = new URL('graphiql.css', dist);
const extensions = { 'font/woff2': 'woff2', 'font/woff': 'woff', 'image/png': 'png' };
const extracted = new Map(); // base64 -> file name, so duplicates share a file
let css = await readFile(cssFile, 'utf8');
css = css.replace(/url\(\s*(["']?)data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)\1\s*\)/g, (_, _q, type, data) => {
  if (!extensions[type]) throw new Error(`graphiql.css: unexpected data: URL of type ${type}`);
  if (!extracted.has(data)) {
    extracted.set(data, `assets/${String(extracted.size).padStart(2, '0')}.${extensions[type]}`);
  }
  return `url(${extracted.get(data)})`;
});
await mkdir(new URL('assets/', dist));
for (const [data, name] of extracted) {
  await writeFile(new URL(name, dist), Buffer.from(data, 'base64'));
}
await writeFile(cssFile, css);

// Fail the build rather than ship a page that reaches another host or needs
// a looser CSP: every url() left must be one of the extracted files.
for (const [, ref] of css.matchAll(/url\(\s*["']?([^"')\s]*)/g)) {
  if (!/^assets\/\d+\.\w+$/.test(ref)) throw new Error(`graphiql.css: unexpected url(${ref})`);
}
if (css.includes('@import')) throw new Error('graphiql.css: unexpected @import');
console.log(`  extracted ${extracted.size} fonts and images from graphiql.css into assets/`);
