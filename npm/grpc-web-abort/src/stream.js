// The async iterator a server-streaming method returns: `for await` reads
// it; `break` (which calls `return()`) cancels the call, aborting its fetch,
// without an error. The call opens at the first `next()`.
export class MessageStream {
  #open;
  #call;
  #queue = Promise.resolve();
  #done = false;
  #returned = false;

  constructor(open) {
    this.#open = open;
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
      this.#call ??= await this.#open();
      // `return()` while the call was being set up: it never starts.
      if (this.#done) {
        this.#call.cancel();
        return { done: true, value: undefined };
      }
      const value = await this.#call.next();
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
    this.#call?.cancel();
  }
}
