// Starts @simulacrum/auth0-simulator over plain HTTP for the Portcullis benchmark.
//
//   node start.mjs --port P --client-id bench --email bench@example.com \
//     --password Bench-Password-42 [--audience A] [--host 127.0.0.1] [--name N] \
//     [--scope "openid profile email offline_access"]
//
// Prints exactly one line, `listening http://HOST:PORT`, on stdout once the
// server accepts connections (with --port 0 it shows the port the system
// picked), then runs until SIGTERM or SIGINT, which exit with status 0.
// --scope is the scope put in every token (the simulator ignores the scope a
// request asks for); a refresh token is only issued if it has offline_access.
//
// The package's own `simulation()` (and its bin) always serves HTTPS and needs
// mkcert certificates under ~/.simulacrum/certs. To serve plain HTTP this
// script assembles the same server from the package's own parts (store,
// routes, configuration schema) and hands `protocol: "http"` to the
// foundation server, which is what `simulation()` does with "https".
//
// The CommonJS build is used on purpose: the package's ES-module build does
// `import * as jwt from "jsonwebtoken"`, and Node sees no `sign` export on that
// CommonJS module, so every /oauth/token call fails with
// "jwt.sign is not a function". The CommonJS build (the one its bin uses) works.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);

const USAGE =
  "usage: node start.mjs --port P --client-id ID --email E --password PW " +
  "[--audience A] [--host H] [--name N] [--scope S]";

function fail(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      "client-id": { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      audience: { type: "string", default: "https://portcullis-bench/api" },
      name: { type: "string" },
      scope: { type: "string", default: "openid profile email offline_access" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(error.message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
for (const required of ["port", "client-id", "email", "password"]) {
  if (args[required] === undefined) fail(`missing --${required}`);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${args.port}`);

// The package's exports map only exposes its entry point (dist/index.cjs for
// require); its internal modules are loaded by path next to that entry point.
const { createFoundationSimulationServer } = require("@simulacrum/foundation-simulator");
const distDir = dirname(require.resolve("@simulacrum/auth0-simulator"));
const internal = (path) => require(join(distDir, path));
const { auth0InitialStoreSchema } = internal("./store/entities.cjs");
const { extendStore } = internal("./store/index.cjs");
const { extendRouter } = internal("./handlers/index.cjs");
const { configurationSchema } = internal("./types.cjs");

// Same shape as the package's getConfig() result, without its search for
// .auth0Simulatorrc / package.json config files in the working directory.
// `port` is only validated there (3000..9999); the real port is passed to listen().
const config = {
  port: 4400,
  clientID: args["client-id"],
  audience: args.audience,
  scope: args.scope,
};
try {
  configurationSchema.parse(config);
} catch (error) {
  fail(`invalid configuration: ${error.message}`);
}

const initialState = auth0InitialStoreSchema.parse({
  users: [
    {
      name: args.name ?? args.email.split("@")[0],
      email: args.email,
      password: args.password,
    },
  ],
});

// The simulator's session cookie is configured `secure: true`, which the
// `cookies` module refuses to send on a plain-HTTP response (it throws). Only
// the browser login pages touch the session; this keeps them usable over HTTP.
const allowSessionOverHttp = (router) => {
  router.use((req, _res, next) => {
    if (req.sessionOptions && !req.secure) req.sessionOptions.secure = false;
    next();
  });
};

const simulator = createFoundationSimulationServer({
  port,
  protocol: "http",
  extendStore: extendStore(initialState, undefined),
  extendRouter: extendRouter(config, allowSessionOverHttp, false),
})();

const listening = await simulator.listen(port, args.host);
const shownHost = args.host.includes(":") ? `[${args.host}]` : args.host;
process.stdout.write(`listening http://${shownHost}:${listening.port}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(0), 2000);
  forced.unref();
  try {
    await listening.ensureClose();
  } finally {
    process.exit(0);
  }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
