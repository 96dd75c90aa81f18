// Verifies jot access tokens with jsonwebtoken and the public key from
// jot's JWKS:
//
//	JOT_URL=http://127.0.0.1:8080 JOT_ALG=ES256 node jsonwebtoken-verify.mjs TOKEN...
//
// For each token it prints a line, "accepted" and the claims as JSON or
// "refused:" and why, and it exits 0 if every token was accepted, else 1.
// jsonwebtoken (9.x) knows ES256 and RS256 but not EdDSA: an Ed25519 key is
// refused as an unknown key type. Under HS256 it verifies with
// JOT_JWT_SECRET. interop/node_test.go runs it.

import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

const JOT_URL = process.env.JOT_URL ?? 'http://127.0.0.1:8080';
const JOT_ALG = process.env.JOT_ALG ?? 'ES256';
const options = { algorithms: [JOT_ALG], issuer: 'jot', audience: 'jot' };

// jsonwebtoken takes one key, not a key set, so pick the JWK the token's
// kid names; the algorithm is pinned by options, never taken from the token.
async function keyFor(token) {
  if (JOT_ALG === 'HS256') {
    return process.env.JOT_JWT_SECRET ?? '';
  }
  const decoded = jwt.decode(token, { complete: true });
  const kid = decoded?.header?.kid;
  const res = await fetch(new URL('/.well-known/jwks.json', JOT_URL));
  if (!res.ok) {
    throw new Error(`JWKS: HTTP ${res.status}`);
  }
  const { keys } = await res.json();
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk) {
    throw new Error(`no key with kid ${JSON.stringify(kid)} in the JWKS`);
  }
  return createPublicKey({ key: jwk, format: 'jwk' });
}

// Every token is checked; one line each on stdout, in order.
let refused = 0;
for (const token of process.argv.slice(2)) {
  try {
    const claims = jwt.verify(token, await keyFor(token), options);
    console.log(`accepted ${JSON.stringify(claims)}`);
  } catch (err) {
    refused++;
    console.log(`refused: ${err.name}: ${err.message}`);
  }
}
process.exit(refused === 0 ? 0 : 1);
