// "App code" as an app would write it over the generated clients: what the
// unit tests in cases.mjs test against the test transport, with no server.

/** Greets each name in turn; the signal stops them all. */
export async function greetAll(greeter, names, { signal } = {}) {
  const replies = [];
  for (const name of names) replies.push((await greeter.sayHello({ name }, { signal, timeoutMs: 2_000 })).message);
  return replies;
}

/** The first `count` updates of a topic, then the stream is cancelled (`break`). */
export async function firstUpdates(updates, topic, count) {
  const seen = [];
  for await (const update of updates.watch({ topic, intervalMs: 10 })) {
    seen.push(update);
    if (seen.length === count) break;
  }
  return seen;
}

/** A greeting that gives up after `ms`: the text for a user either way. */
export async function greetWithin(greeter, name, ms) {
  try {
    return (await greeter.sayHello({ name }, { timeoutMs: ms })).message;
  } catch (error) {
    return `no answer (${error.codeName ?? error.name})`;
  }
}
