// The async iterator behind `watch()`: `for await` reads it; `break` (which
// calls `return()`) cancels the call, aborting its fetch, without an error.
export class MessageStream {
  #next;
  #cancel;
  #queue = Promise.resolve();
  #done = false;
  #returned = false;

  // `next` resolves with the next message or `undefined` at the end;
  // `cancel` ends the call.
  constructor(next, cancel) {
    this.#next = next;
    this.#cancel = cancel;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    // One read at a time, in call order, as an async generator would.
    const read = this.#queue.then(() => this.#read());
    this.#queue = read.catch(() => {});
    return read;
  }

  async #read() {
    if (this.#done) return { done: true, value: undefined };
    try {
      const value = await this.#next();
      if (value === undefined) this.#finish();
      return value === undefined ? { done: true, value } : { done: false, value };
    } catch (error) {
      this.#finish();
      // A read that `return()` cut short ends quietly.
      if (this.#returned) return { done: true, value: undefined };
      throw error;
    }
  }

  return(value) {
    if (!this.#done) {
      this.#returned = true;
      this.#finish();
    }
    return Promise.resolve({ done: true, value });
  }

  #finish() {
    this.#done = true;
    this.#cancel();
  }
}
