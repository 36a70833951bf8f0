// The app's unit tests (cases.mjs) under Vitest, as an app that uses it
// runs them: `npx vitest run`, the test transport, no server.
import { test } from "vitest";

import { cases } from "./cases.mjs";

for (const [name, run] of cases) test(name, run);
