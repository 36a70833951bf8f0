#!/usr/bin/env node
// protoc-gen-grpc-web-abort: a protoc plugin (buf and protoc run it) that
// reads a CodeGeneratorRequest on standard input and writes the response on
// standard output. The generator is the Rust crate grpc-web-abort-build
// compiled to WebAssembly, so this runs on Node alone.
"use strict";
const { respond } = require("../lib/grpc_web_abort_build.js");

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const output = respond(Buffer.concat(chunks));
  for (const line of output.warnings.split("\n").filter(Boolean)) {
    process.stderr.write(`protoc-gen-grpc-web-abort: warning: ${line}\n`);
  }
  process.stdout.write(output.response);
});
