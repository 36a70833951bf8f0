// Loads the app; if the npm package is missing or fails to start, says so on
// the page instead of leaving it blank.
try {
  const { start } = await import("./app.js");
  await start();
} catch (error) {
  const outlet = document.getElementById("route");
  const message = document.createElement("p");
  message.className = "notice";
  message.textContent =
    `The page could not start: ${error.message}. It needs the npm package built into pkg/ ` +
    "and served by demo-server at /pkg/: run `cargo xtask demo`.";
  outlet.replaceChildren(message);
  document.getElementById("counters-state").textContent = "Not connected.";
  throw error; // still reported, so tests and the console see it
}
