// A second user package (acme.shop.v1: two services, a server stream, an
// import of another file and of a well-known type), built by `cargo xtask
// package` exactly as a user builds one, called through tests/echo-server.
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// `peer`: tests/js/peer.mjs's address (shop.test.mjs starts it).
export async function run(base, peer) {
  const { CartClient, PricesClient, GrpcError, Code, navigationSignal } = await import(`${base}/shop/index.js`);

  test("one client class per service, one method per rpc", () => {
    assert(typeof CartClient === "function" && typeof PricesClient === "function", "classes");
    assert(typeof new CartClient(base).addItem === "function", "addItem");
    assert(typeof new PricesClient(base).watchPrices === "function", "watchPrices");
    assert(typeof GrpcError === "function" && Code.CANCELLED === 1 && typeof navigationSignal === "function", "shared exports");
  });

  test("a unary call with a message from an imported file", async () => {
    const line = await new CartClient(base).addItem({ sku: "A-1", quantity: 2, price: { currency: "EUR", cents: 250 } });
    assert(line.sku === "A-1" && line.quantity === 2, JSON.stringify({ sku: line.sku, quantity: line.quantity }));
    assert(line.price.currency === "EUR" && line.price.cents === 250n, `price ${line.price.cents}`);
  });

  test("a server stream with a well-known type, broken off after two", async () => {
    const seen = [];
    const request = { sku: "A-1", since: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) };
    for await (const change of new PricesClient(base).watchPrices(request, { headers: { "x-echo-count": "5" } })) {
      seen.push(change.at);
      if (seen.length === 2) break;
    }
    assert(seen.join() === "2024-01-02T03:04:05Z,2024-01-02T03:04:05Z", seen.join());
  });

  test("a signal that already aborted: CANCELLED and no request", async () => {
    // Against the peer (tests/js/peer.mjs), which logs every call it gets.
    const log = async () => (await (await fetch(`${peer}/log`, { cache: "no-store" })).json()).map((c) => c.path);
    const seen = (await log()).length;
    const controller = new AbortController();
    controller.abort("gone");
    try {
      await new CartClient(peer).addItem({ sku: "x" }, { signal: controller.signal });
      throw new Error("resolved");
    } catch (error) {
      assert(error instanceof GrpcError && error.code === Code.CANCELLED && error.cause === "gone", String(error));
    }
    // A call after it: had the first been sent, it would have arrived before.
    await new CartClient(peer).addItem({ sku: "y" });
    const paths = (await log()).slice(seen);
    assert(paths.join() === "/acme.shop.v1.Cart/AddItem", `the peer got ${paths.length} calls: ${paths}`);
  });

  test("bad input names the path", async () => {
    try {
      await new CartClient(base).addItem({ sku: "x", price: { cents: "lots" } });
      throw new Error("resolved");
    } catch (error) {
      assert(error instanceof TypeError && error.message === 'AddItemRequest.price.cents: expected an integer, got "lots"', error.message);
    }
  });

  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name });
    } catch (error) {
      results.push({ name, error: String(error?.stack ?? error) });
    }
  }
  return results;
}
