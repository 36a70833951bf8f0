// The well-known types' registrations, which `cargo xtask dist` writes in
// from the generator (so their descriptors are the generator's). Bundlers
// keep only those an app's generated modules use.
import { registerFile } from "./registry.js";

/* PROVIDED */
