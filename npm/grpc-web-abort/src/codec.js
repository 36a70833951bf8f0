// @internal The codec on its own, for `grpc-web-abort/testing`: the test
// transport decodes what a call encoded and encodes a handler's replies with
// the core that calls over the network use.
import { decodeRequest, encodeReply, methodStreams } from "./instance.js";
import { ready } from "./registry.js";

export const testCodec = Object.freeze({
  /** `true`/`false`: whether `path` streams; `undefined`: no such method. */
  async methodStreams(path) {
    return methodStreams(await ready(), path);
  },
  async decodeRequest(path, bytes) {
    return decodeRequest(await ready(), path, bytes);
  },
  async encodeReply(path, message) {
    return encodeReply(await ready(), path, message);
  },
});
