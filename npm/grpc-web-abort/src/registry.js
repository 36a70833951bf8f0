import { instanceGeneration, load, registerSchema } from "./instance.js";

// The type registry: every generated module registers its proto's
// descriptor here once, when it is first imported (its imports' modules
// first). The wasm reads them all as one FileDescriptorSet, rebuilt only
// when a module registered since the last call (code splitting).
const registered = [];
let schema;

/** @internal Called by generated modules: their descriptor (base64) and the registrations of the protos they use. */
export function registerFile(descriptor, deps) {
  const file = { descriptor, deps };
  registered.push(file);
  return file;
}

// FileDescriptorSet: field 1, one length-delimited record per file.
function descriptorSet() {
  const parts = [];
  for (const { descriptor } of registered) {
    const bytes = bytesOf(descriptor);
    const head = [0x0a];
    for (let n = bytes.length; ; n >>>= 7) {
      if (n < 0x80) {
        head.push(n);
        break;
      }
      head.push((n & 0x7f) | 0x80);
    }
    parts.push(Uint8Array.from(head), bytes);
  }
  const set = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    set.set(p, at);
    at += p.length;
  }
  return set;
}

/** The schema id of every registered file, on the current wasm instance. */
export async function ready(input) {
  await load(input);
  const generation = instanceGeneration();
  if (schema?.count !== registered.length || schema.generation !== generation) {
    const count = registered.length;
    schema = { count, generation, id: registerSchema(descriptorSet()) };
  }
  return schema.id;
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
