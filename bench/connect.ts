// Connect-ES's side of `cargo xtask bench`: the same three services through
// the gRPC-Web transport, code generated from proto/demo.proto by
// protoc-gen-es (buf.gen.yaml). Bundled and minified by esbuild, this is also
// the bundle whose gzipped size is compared with `pkg/`.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { Greeter, Updates, Work } from "./gen/demo_pb";

/** The three clients, called as `greeter.sayHello(req, { signal, timeoutMs })`. */
export function connectClients(baseUrl: string) {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
  return {
    greeter: createClient(Greeter, transport),
    updates: createClient(Updates, transport),
    work: createClient(Work, transport),
  };
}
