// The app's unit tests (cases.mjs) under `node --test`: the runtime's Node
// entry, the test transport, no server.
import { it } from "node:test";

import { cases } from "./cases.mjs";

for (const [name, run] of cases) it(name, run);
