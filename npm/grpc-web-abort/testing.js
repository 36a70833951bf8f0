// `grpc-web-abort/testing`: a test transport. A service's methods written as
// JS functions answer a client's calls in memory: the client's `fetch`
// option is this transport's `fetch`, which plays a gRPC-Web server, so a
// call goes through everything it goes through in production (option
// checks, the codec both ways, the frames, the deadline, the abort) except
// the network. For unit tests of app code, in Node and in browsers.
import { Code, GrpcError, testCodec } from "./index.js";

const CODE_NAMES = Object.fromEntries(Object.entries(Code).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k]));
const GRPC_WEB = "application/grpc-web+proto";

/**
 * `services`: `{ "pkg.Service": { MethodName(request, context) { ... } } }`,
 * a method under its proto name (`SayHello`) or the name its client gives
 * it (`sayHello`). A unary handler returns (or resolves with) the reply; a
 * server-streaming one is an async (or sync) generator of replies. A
 * `GrpcError` it throws is the call's status; anything else it throws is
 * UNKNOWN, as gRPC servers report an application's exception.
 */
export function createTestTransport(services) {
  if (typeof services !== "object" || services === null) {
    throw new TypeError("createTestTransport: services must be an object { \"pkg.Service\": { Method(request, context) {...} } }");
  }
  for (const [service, methods] of Object.entries(services)) {
    if (typeof methods !== "object" || methods === null) throw new TypeError(`createTestTransport: services["${service}"] must be an object of methods`);
    for (const [name, handler] of Object.entries(methods)) {
      if (typeof handler !== "function") throw new TypeError(`createTestTransport: services["${service}"].${name} must be a function`);
    }
  }
  return Object.freeze({ fetch: (input, init) => answer(services, input instanceof Request ? input : new Request(input, init)) });
}

async function answer(services, request) {
  const signal = request.signal;
  signal.throwIfAborted();
  const [, service = "", name = ""] = /\/([^/]+)\/([^/]+)$/.exec(new URL(request.url).pathname) ?? [];
  const path = `/${service}/${name}`;
  const methods = Object.hasOwn(services, service) ? services[service] : undefined;
  const handler = methods && [name, clientName(name), `${clientName(name)}_`].map((n) => (Object.hasOwn(methods, n) ? methods[n] : undefined)).find(Boolean);
  const streams = await testCodec.methodStreams(path);
  if (streams === undefined || handler === undefined) return trailersOnly(Code.UNIMPLEMENTED, `${path} is not implemented by this test transport`);
  const body = new Uint8Array(await request.arrayBuffer());
  const length = body.length >= 5 ? new DataView(body.buffer, body.byteOffset).getUint32(1) : -1;
  if (body.length < 5 || body[0] !== 0 || length !== body.length - 5) {
    return trailersOnly(Code.INTERNAL, "the request is not one uncompressed gRPC-Web message frame");
  }
  let message;
  try {
    message = await testCodec.decodeRequest(path, body.subarray(5));
  } catch (error) {
    return trailersOnly(Code.INTERNAL, error.message);
  }
  const context = {
    method: Object.freeze({ service, name, kind: streams ? "server_streaming" : "unary", path }),
    headers: request.headers,
    signal,
    deadline: deadlineOf(request.headers.get("grpc-timeout")),
    responseHeaders: new Headers(),
    responseTrailers: new Headers(),
  };
  const replies = streams ? iterate(handler(message, context)) : once(() => handler(message, context));
  // The response begins with the first reply (or the status, trailers-only),
  // so a handler can set its response headers before it.
  let first;
  try {
    first = await replies.next();
  } catch (error) {
    return trailersOnly(...status(error), context.responseHeaders, context.responseTrailers);
  }
  const out = new ReadableStream({
    async start(controller) {
      const stop = () => {
        controller.error(signal.reason);
        replies.return?.();
      };
      signal.addEventListener("abort", stop, { once: true });
      let result = first;
      let code = Code.OK;
      let text = "";
      try {
        while (!result.done && !signal.aborted) {
          controller.enqueue(frame(0, await testCodec.encodeReply(path, result.value).catch(badReply(path))));
          result = await replies.next();
        }
      } catch (error) {
        [code, text] = status(error);
      }
      signal.removeEventListener("abort", stop);
      if (signal.aborted) return;
      const trailers = new Headers(context.responseTrailers);
      trailers.set("grpc-status", String(code));
      if (text) trailers.set("grpc-message", encodeURIComponent(text));
      let block = "";
      trailers.forEach((value, key) => (block += `${key}:${value}\r\n`));
      controller.enqueue(frame(0x80, new TextEncoder().encode(block)));
      controller.close();
    },
  });
  return new Response(out, { status: 200, headers: withContentType(context.responseHeaders) });
}

/** The name a generated client gives a method: protoc's camel case, first letter lower. */
function clientName(name) {
  const camel = name.replace(/_+([a-z0-9])/gi, (_, c) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

async function* iterate(replies) {
  if (!replies || (typeof replies[Symbol.asyncIterator] !== "function" && typeof replies[Symbol.iterator] !== "function")) {
    throw new TypeError("a server-streaming handler must return an iterable of replies (e.g. be an async generator)");
  }
  yield* replies;
}

async function* once(reply) {
  yield await reply();
}

/** A reply the codec refuses is the handler's bug: INTERNAL, naming the field. */
function badReply(path) {
  return (error) => {
    throw new GrpcError(Code.INTERNAL, `the test handler of ${path} returned an invalid reply: ${error.message}`);
  };
}

function status(error) {
  if (error instanceof GrpcError) return [error.code, error.message];
  return [Code.UNKNOWN, error instanceof Error ? error.message : String(error)];
}

function trailersOnly(code, text, headers, trailers) {
  const all = withContentType(headers);
  trailers?.forEach((value, key) => all.append(key, value));
  all.set("grpc-status", String(code));
  all.set("grpc-message", encodeURIComponent(text || CODE_NAMES[code] || ""));
  return new Response(null, { status: 200, headers: all });
}

function withContentType(headers) {
  const all = new Headers(headers);
  all.set("content-type", GRPC_WEB);
  return all;
}

function frame(flags, bytes) {
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** grpc-timeout ("250m", "3S", ...) as an absolute time in epoch ms. */
function deadlineOf(timeout) {
  const match = /^(\d{1,8})([HMSmun])$/.exec(timeout ?? "");
  if (!match) return undefined;
  const ms = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[match[2]];
  return Date.now() + Number(match[1]) * ms;
}
