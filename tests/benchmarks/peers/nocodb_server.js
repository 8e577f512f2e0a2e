// Launcher for the NocoDB peer of bench_peers.py (our code; NocoDB itself lives in the scratch
// folder that tests/benchmarks/peers/install.sh fills, found through NODE_PATH).
//
//   NODE_PATH=$PEERS_DIR/nocodb/node_modules PORT=8080 NC_DB=... node nocodb_server.js
//
// NocoDB's npm package is a library: it mounts on an Express app. This is the embedding its
// README shows, listening on 127.0.0.1 only.
'use strict';

const express = require('express');
const { Noco } = require('nocodb');

const port = parseInt(process.env.PORT || '8080', 10);
const host = process.env.HOST || '127.0.0.1';

(async () => {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = app.listen(port, host);
  app.use(await Noco.init({}, httpServer, app));
  console.log(`nocodb listening on http://${host}:${port}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
