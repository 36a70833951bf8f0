// The bench's observer of the tiers, run in Node by bench/run.mjs (bundled by
// esbuild for Node): `Stats.Watch` through Connect-ES's gRPC-Web transport on
// Node's own fetch, so the snapshots travel on a connection of their own,
// never on the page's HTTP/2 connection with the calls being aborted, and are
// stamped by a process that runs no client under test.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { Stats } from "./gen/demo_pb";

export function statsClient(baseUrl: string) {
  return createClient(Stats, createGrpcWebTransport({ baseUrl, useBinaryFormat: true }));
}
