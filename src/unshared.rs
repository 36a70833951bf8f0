//! A marker that lets browser objects (`AbortSignal`, timers, JS closures) live
//! where tonic and `http::Extensions` demand `Send + Sync`.
//!
//! Sound only because `wasm32-unknown-unknown` without the `atomics` feature has
//! exactly one thread: the value can never reach another one. The same reasoning
//! is behind `tonic-web-wasm-client`'s `unsafe impl Send` on its body.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("grpc-web-abort assumes single-threaded wasm (no `atomics`)");

#[derive(Clone, Debug, Default)]
pub(crate) struct Unshared<T>(pub T);

// SAFETY: see the module comment; on the host these types are never used at run time.
unsafe impl<T> Send for Unshared<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Unshared<T> {}
