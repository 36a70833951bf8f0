//! A Rust future as a JS promise: the npm runtime's one executor. Each
//! call's future is a task, polled first in a microtask and then whenever
//! woken, from one queue run by `queueMicrotask`.
//!
//! Why not js-sys's `future_to_promise` (as wasm-bindgen-futures'): it does
//! the same, but with its general machinery linked in: a `VecDeque` queue
//! behind a lazily made global, four look-ups of the global object to find
//! `queueMicrotask`, and the task type of JSPI, which this runtime never
//! uses yet cannot be dropped (its waker sits in a function table): about
//! 3.5 KB of wasm (issue 17). JS promises awaited in Rust (`JsFuture`)
//! stay js-sys's.
use std::{
    cell::{Cell, RefCell},
    future::Future,
    mem::ManuallyDrop,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll, RawWaker, RawWakerVTable, Waker},
};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

type Boxed = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// A future and the `resolve`/`reject` of its promise.
struct Task {
    /// `None` once it has settled.
    future: RefCell<Option<Boxed>>,
    resolve: Function,
    reject: Function,
    /// In the queue already: another wake before its poll adds nothing.
    queued: Cell<bool>,
}

thread_local! {
    /// The tasks woken since the queue last ran.
    static QUEUE: RefCell<Vec<Rc<Task>>> = const { RefCell::new(Vec::new()) };
    /// What runs the queue, made once.
    static RUN: JsValue = Closure::<dyn FnMut()>::new(run_queue).into_js_value();
}

#[wasm_bindgen]
extern "C" {
    /// JS's `queueMicrotask` (every browser the package supports has it).
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &JsValue);
}

/// `future` as a promise, which it resolves with its `Ok` or rejects with
/// its `Err`.
pub(crate) fn promise(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    spawn(Box::pin(future))
}

fn spawn(future: Boxed) -> Promise {
    let mut future = Some(future);
    Promise::new(&mut |resolve, reject| {
        schedule(Rc::new(Task {
            future: RefCell::new(future.take()),
            resolve,
            reject,
            queued: Cell::new(false),
        }));
    })
}

/// Queues `task` for a poll; the first task queued since the queue last
/// ran asks for a microtask to run it.
fn schedule(task: Rc<Task>) {
    if task.queued.replace(true) {
        return;
    }
    let first = QUEUE.with(|queue| {
        let mut queue = queue.borrow_mut();
        queue.push(task);
        queue.len() == 1
    });
    if first {
        RUN.with(queue_microtask);
    }
}

/// Polls the tasks queued so far; those woken meanwhile wait for the next
/// microtask, as with js-sys.
fn run_queue() {
    let tasks = QUEUE.with(|queue| std::mem::take(&mut *queue.borrow_mut()));
    for task in tasks {
        task.queued.set(false);
        let mut slot = task.future.borrow_mut();
        let Some(future) = slot.as_mut() else {
            continue;
        };
        let waker = waker(Rc::clone(&task));
        let Poll::Ready(outcome) = future.as_mut().poll(&mut Context::from_waker(&waker)) else {
            continue;
        };
        // Dropped before the promise settles (what it holds, a fetch's abort
        // among them, goes first), as js-sys's did.
        *slot = None;
        drop(slot);
        let (settle, value) = match outcome {
            Ok(value) => (&task.resolve, value),
            Err(error) => (&task.reject, error),
        };
        let _ = settle.call1(&JsValue::UNDEFINED, &value);
    }
}

/// A waker holding one count of `task`'s `Rc`. The wasm runs on one thread
/// (no `atomics`), so the waker is never sent elsewhere.
fn waker(task: Rc<Task>) -> Waker {
    // SAFETY: `raw` gives a pointer from `Rc::into_raw` with the vtable
    // below, whose functions keep the count balanced.
    unsafe { Waker::from_raw(raw(task)) }
}

fn raw(task: Rc<Task>) -> RawWaker {
    RawWaker::new(Rc::into_raw(task).cast(), &VTABLE)
}

const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// The task behind `data` without taking its count.
///
/// SAFETY (for each function below): `data` comes from `raw`, and its
/// count has not been given back yet.
unsafe fn borrowed(data: *const ()) -> ManuallyDrop<Rc<Task>> {
    ManuallyDrop::new(unsafe { Rc::from_raw(data.cast::<Task>()) })
}

unsafe fn clone(data: *const ()) -> RawWaker {
    raw(Rc::clone(&*unsafe { borrowed(data) }))
}

unsafe fn wake(data: *const ()) {
    schedule(unsafe { Rc::from_raw(data.cast::<Task>()) });
}

unsafe fn wake_by_ref(data: *const ()) {
    schedule(Rc::clone(&*unsafe { borrowed(data) }));
}

unsafe fn drop_waker(data: *const ()) {
    drop(unsafe { Rc::from_raw(data.cast::<Task>()) });
}
