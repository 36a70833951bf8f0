// Size as protos grow (issues 14 and 17): for each of a set of Google's API
// protos, the bytes an app pays to call all of its unary and
// server-streaming methods, ours (the runtime package + the modules our
// plugin generates) beside Connect-ES (connect-web + protobuf-es + the code
// protoc-gen-es generates), each bundled and minified by esbuild as an app's
// build would, gzip -9 and brotli -q 11. The marginal cost of a proto is its
// app's size minus the size of an app that only links the client machinery;
// "three protos" is one app with the first three, which pays for one
// runtime. Writes sizes.json and sizes.md (a table and an SVG plot) into OUT.
// Usage: node bench/sizes.mjs DIST_DIR OUT_DIR
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const bench = fileURLToPath(new URL(".", import.meta.url));
const [distArg = resolve(bench, "../target/dist"), outArg = resolve(bench, "../target/bench")] = process.argv.slice(2);
const dist = resolve(distArg);
const out = resolve(outArg);
const work = join(out, "sizes");
const bin = (name) => join(bench, "node_modules/.bin", name);

// Real protos of different sizes; the first three make the three-proto app.
const PROTOS = [
  "google/pubsub/v1/pubsub.proto",
  "google/cloud/translate/v3/translation_service.proto",
  "google/cloud/speech/v1/cloud_speech.proto",
  "google/firestore/v1/firestore.proto",
  "google/cloud/vision/v1/image_annotator.proto",
  "google/spanner/v1/spanner.proto",
  "google/storage/v2/storage.proto",
  "google/cloud/dialogflow/cx/v3/session.proto",
  "google/cloud/compute/v1/compute.proto",
];

function run(command, args) {
  const start = Date.now();
  // NODE_PATH: esbuild resolves Connect-ES's packages from bench/.
  const env = { ...process.env, NODE_PATH: join(bench, "node_modules") };
  execFileSync(command, args, { cwd: work, env, stdio: ["ignore", "ignore", "inherit"] });
  console.error(`sizes: ${command.split("/").pop()} ${args[0]} ${args[1] ?? ""}: ${Date.now() - start} ms`);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(bench, "node_modules/google-proto-files/google"), join(work, "vendor/google"), { recursive: true });
const paths = PROTOS.flatMap((p) => ["--path", `vendor/${p}`]);
const plugin = resolve(dist, "protoc-gen-grpc-web-abort/bin/protoc-gen-grpc-web-abort.cjs");
const template = {
  version: "v2",
  plugins: [
    { local: ["node", plugin], out: "ours", include_imports: true },
    { local: bin("protoc-gen-es"), out: "es", opt: "target=ts", include_imports: true },
  ],
};
run(bin("buf"), ["generate", "vendor", ...paths, "--template", JSON.stringify(template)]);
run(bin("buf"), ["build", "vendor", ...paths, "-o", "image.binpb"]);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(join(work, "image.binpb"))));

const stem = (proto) => proto.replace(/\.proto$/, "");
const services = (proto) => registry.getFile(proto).services;

/** What an app that calls every client of `protos` imports. */
function entries(protos) {
  const ours = protos.map((p, i) => `export * as p${i} from "./ours/${stem(p)}_grpcweb.js";`);
  const es = [
    `import { createClient } from "@connectrpc/connect";`,
    `import { createGrpcWebTransport } from "@connectrpc/connect-web";`,
    `const transport = createGrpcWebTransport({ baseUrl: "https://api.example" });`,
    ...protos.map((p, i) => `import * as p${i} from "./es/${stem(p)}_pb";`),
    `export const clients = [${protos
      .flatMap((p, i) => services(p).map((s) => `createClient(p${i}.${s.name}, transport)`))
      .join(", ")}];`,
    // The client machinery alone, for the base line.
    `export { createClient, transport };`,
  ];
  return { ours: ours.join("\n") + `\nexport { unary, serverStream, client } from "grpc-web-abort";\n`, es: es.join("\n") + "\n" };
}

const wasm = readFileSync(join(dist, "grpc-web-abort/grpc_web_abort_bg.wasm"));

/** gzip -9 and brotli -q 11 of `parts` concatenated. */
function compressed(parts) {
  const data = Buffer.concat(parts);
  return {
    raw: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

let n = 0;
/** The app for `protos`, both sides: sizes with the wasm (ours) included. */
function app(protos) {
  const { ours, es } = entries(protos);
  const sizes = {};
  for (const [side, source, ext] of [
    ["ours", ours, "js"],
    ["es", es, "ts"],
  ]) {
    const entry = join(work, `entry${++n}.${ext}`);
    const bundle = join(work, `bundle${n}.js`);
    writeFileSync(entry, source);
    run(bin("esbuild"), [
      entry,
      "--bundle",
      "--minify",
      "--format=esm",
      "--log-level=error",
      `--alias:grpc-web-abort=${resolve(dist, "grpc-web-abort/index.js")}`,
      `--outfile=${bundle}`,
      `--resolve-extensions=.ts,.js`,
      `--tsconfig-raw={}`,
      "--loader:.wasm=file",
    ]);
    const js = readFileSync(bundle);
    sizes[side] = compressed(side === "ours" ? [wasm, js] : [js]);
  }
  return sizes;
}

const base = app([]);
const rows = PROTOS.map((proto) => {
  const sizes = app([proto]);
  const methods = services(proto).flatMap((s) => s.methods).length;
  const marginal = (side, k) => sizes[side][k] - base[side][k];
  return {
    proto,
    services: services(proto).length,
    methods,
    ours: sizes.ours,
    es: sizes.es,
    marginal: {
      ours: { gzip: marginal("ours", "gzip"), brotli: marginal("ours", "brotli") },
      es: { gzip: marginal("es", "gzip"), brotli: marginal("es", "brotli") },
    },
  };
});
const three = app(PROTOS.slice(0, 3));
const result = { base, rows, three: { protos: PROTOS.slice(0, 3), ...three } };
writeFileSync(join(out, "sizes.json"), JSON.stringify(result, null, 2));

const kb = (b) => (b / 1000).toFixed(1);
const ratio = (a, b) => (a / b).toFixed(2);
const md = [];
md.push(`| proto | services / methods | ours: app (gzip) | Connect-ES: app (gzip) | ratio | ours: marginal gzip / brotli | protoc-gen-es: marginal gzip / brotli | marginal ratio (gzip) |`);
md.push(`|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  md.push(
    `| \`${r.proto}\` | ${r.services} / ${r.methods} | ${kb(r.ours.gzip)} KB | ${kb(r.es.gzip)} KB | ${ratio(r.ours.gzip, r.es.gzip)}× | ${kb(r.marginal.ours.gzip)} / ${kb(r.marginal.ours.brotli)} KB | ${kb(r.marginal.es.gzip)} / ${kb(r.marginal.es.brotli)} KB | ${ratio(r.marginal.ours.gzip, r.marginal.es.gzip)}× |`,
  );
}
md.push("");
md.push(
  `Base line (the client machinery, no proto): ours ${kb(base.ours.gzip)} KB gzip / ${kb(base.ours.brotli)} KB brotli (the wasm and the runtime's JS), Connect-ES ${kb(base.es.gzip)} KB / ${kb(base.es.brotli)} KB. ` +
    `One app with the first three protos: ours ${kb(three.ours.gzip)} KB gzip (${kb(three.ours.brotli)} KB brotli), Connect-ES ${kb(three.es.gzip)} KB (${kb(three.es.brotli)} KB): ${ratio(three.ours.gzip, three.es.gzip)}×; ` +
    `one runtime serves all three.`,
);
writeFileSync(join(out, "sizes.md"), md.join("\n") + "\n");
writeFileSync(join(out, "sizes.svg"), plot(rows));
console.log(md.join("\n"));

/** Marginal gzip bytes per proto, ours beside protoc-gen-es's, as bars. */
function plot(rows) {
  const width = 720;
  const bar = 12;
  const gap = 10;
  const left = 260;
  const max = Math.max(...rows.flatMap((r) => [r.marginal.ours.gzip, r.marginal.es.gzip]));
  const scale = (width - left - 80) / max;
  const lines = [];
  rows.forEach((r, i) => {
    const y = 30 + i * (2 * bar + gap);
    const name = r.proto.replace(/^google\//, "");
    lines.push(`<text x="${left - 6}" y="${y + bar + 4}" text-anchor="end">${name}</text>`);
    for (const [j, side, color] of [
      [0, "ours", "#2b6cb0"],
      [1, "es", "#c05621"],
    ]) {
      const w = Math.max(1, r.marginal[side].gzip * scale);
      const by = y + j * bar;
      lines.push(`<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${color}"/>`);
      lines.push(`<text x="${left + w + 4}" y="${by + bar - 3}">${kb(r.marginal[side].gzip)} KB</text>`);
    }
  });
  const height = 40 + rows.length * (2 * bar + gap);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<text x="10" y="16" font-weight="bold">Marginal size per proto, gzip -9: ours (blue) vs protoc-gen-es + Connect-ES (orange)</text>
${lines.join("\n")}
</svg>
`;
}
