// Verifies jot access tokens with jose, as a Node service would:
//
//	JOT_URL=http://127.0.0.1:8080 JOT_ALG=ES256 node jose-verify.mjs TOKEN...
//
// For each token it prints a line, "accepted" and the claims as JSON or
// "refused:" and why, and it exits 0 if every token was accepted, else 1.
// Under HS256 it verifies with JOT_JWT_SECRET, as jot publishes no key for
// a shared secret. interop/node_test.go runs it; the README quotes the part
// between the snippet markers.

// snippet:start
import { createRemoteJWKSet, jwtVerify } from 'jose';

const JOT_URL = process.env.JOT_URL ?? 'http://127.0.0.1:8080';
const JOT_ALG = process.env.JOT_ALG ?? 'ES256'; // ES256, EdDSA or RS256: whatever jot signs with

// Fetched on first use and cached; a token whose kid the cache lacks (jot
// rotated its key) makes jose fetch the set again, at most every 30 s.
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', JOT_URL));

async function verify(token) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer: 'jot',
    audience: 'jot',
    algorithms: [JOT_ALG],
  });
  return payload; // payload.sub is the user id, payload.role "user" or "admin"
}
// snippet:end

async function verifyHS256(token) {
  const secret = new TextEncoder().encode(process.env.JOT_JWT_SECRET ?? '');
  const { payload } = await jwtVerify(token, secret, {
    issuer: 'jot',
    audience: 'jot',
    algorithms: ['HS256'],
  });
  return payload;
}

// Every token is checked; one line each on stdout, in order.
let refused = 0;
for (const token of process.argv.slice(2)) {
  try {
    const claims = JOT_ALG === 'HS256' ? await verifyHS256(token) : await verify(token);
    console.log(`accepted ${JSON.stringify(claims)}`);
  } catch (err) {
    refused++;
    console.log(`refused: ${err.code ?? err.name}: ${err.message}`);
  }
}
process.exit(refused === 0 ? 0 : 1);
