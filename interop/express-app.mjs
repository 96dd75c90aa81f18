// An Express API that accepts jot access tokens through passport-jwt, with
// the keys from jot's JWKS via jwks-rsa:
//
//	JOT_URL=http://127.0.0.1:8080 JOT_ALG=ES256 PORT=3000 node express-app.mjs
//
// GET /me answers the token's user, or 401. It prints "listening on PORT"
// once it serves (PORT=0 picks a free port). interop/node_test.go runs it;
// the README quotes the part between the snippet markers.

// snippet:start
import express from 'express';
import passport from 'passport';
import { Strategy as JwtStrategy, ExtractJwt } from 'passport-jwt';
import jwksRsa from 'jwks-rsa';

const JOT_URL = process.env.JOT_URL ?? 'http://127.0.0.1:8080';
const JOT_ALG = process.env.JOT_ALG ?? 'ES256'; // ES256 or RS256 (passport-jwt has no EdDSA)

passport.use(new JwtStrategy({
  jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
  // The key the token's kid names, from jot's JWKS: cached, and refetched
  // (at most 10 times a minute) for a kid it does not know yet.
  secretOrKeyProvider: jwksRsa.passportJwtSecret({
    jwksUri: `${JOT_URL}/.well-known/jwks.json`,
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
  }),
  issuer: 'jot',
  audience: 'jot',
  algorithms: [JOT_ALG],
}, (payload, done) => done(null, { id: payload.sub, email: payload.email, role: payload.role })));

const app = express();
app.get('/me', passport.authenticate('jwt', { session: false }), (req, res) => res.json(req.user));
// snippet:end

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
