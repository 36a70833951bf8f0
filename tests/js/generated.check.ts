// Type-checks the declarations generated for the test protos
// (tests/protos/), strictly: exact outputs, lenient inputs. Never run.
import { CartClient, PricesClient, type CartLine } from "../../target/test-packages/shop/index.js";
import { type Color, EchoClient, type Kinds, type KindsInput } from "../../target/test-packages/kinds/index.js";

const line: CartLine = await new CartClient("http://x").addItem({ sku: "a", quantity: "2", price: { cents: 5n } });
const cents: bigint | undefined = line.price?.cents;
for await (const change of new PricesClient("http://x").watchPrices({ since: new Date() })) {
  const at: string | undefined = change.at;
}
const input: KindsInput = {
  scalars: { fInt64: "1", fBytes: "AAE=", fDouble: "NaN", fBool: true },
  color: "RED",
  colors: [1, "GREEN"],
  counts: { a: 1n },
  text: "x",
  at: new Date(),
  took: "1s",
  wInt64: 5,
  meta: { a: [1, null] },
  json: null,
  asString: 1n,
};
const out: Kinds = await new EchoClient("http://x").echo(input);
const color: Color | number = out.color;
const bytes: Uint8Array = out.blobs[0];
const big: bigint = out.scalars!.fInt64;
const asString: string = out.asString;
const asNumber: number = out.asNumber;
const f: number | "NaN" | "Infinity" | "-Infinity" = out.doubles[0];
// @ts-expect-error bidi streaming methods are not generated
new EchoClient("http://x").chat;
// @ts-expect-error outputs are exact: no unknown fields
out.nope;
// @ts-expect-error inputs are typed: a string is no Scalars
await new EchoClient("http://x").echo({ scalars: "x" });
export { cents, color, bytes, big, asString, asNumber, f };
