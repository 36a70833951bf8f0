import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const app = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  // `npm install <dir>` links the package, and the dev server serves a
  // linked package from its real path, outside the app: without this it
  // answers 403 for the package's wasm (the README's "Install" says so).
  server: { fs: { allow: [app, realpathSync(`${app}/node_modules/grpc-web-abort`)] } },
});
