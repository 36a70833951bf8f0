//! The exported clients, one per demo service, each a tonic-generated client
//! over the [`Channel`] plus the client's default `CallOptions`.
use wasm_bindgen::prelude::*;

use super::{
    call::unary,
    options::CallOptions,
    stream::server_stream,
    types::{
        CallOptionsArg, ComputeRequestArg, HelloRequestArg, StatsRequestArg, WatchRequestArg, arg,
    },
};
use crate::{Channel, proto};

/// A JS client class holding a generated client and default options. Docs
/// go in as `#[doc = "..."]`: wasm-bindgen would copy a `///` passed
/// through a macro into the TypeScript declarations as `r" ...`.
macro_rules! client {
    ($(#[doc = $doc:tt])* $name:ident => $generated:ty) => {
        $(#[doc = $doc])*
        #[wasm_bindgen]
        pub struct $name {
            client: $generated,
            defaults: CallOptions,
        }

        #[wasm_bindgen]
        impl $name {
            /// A client for the server at `baseUrl`; `defaults` apply to every
            /// call (throws a `TypeError` naming a bad option).
            #[wasm_bindgen(constructor)]
            pub fn new(
                #[wasm_bindgen(js_name = baseUrl)] base_url: &str,
                defaults: Option<CallOptionsArg>,
            ) -> Result<$name, JsValue> {
                let channel = Channel::new(base_url.trim_end_matches('/'));
                Ok(Self {
                    client: <$generated>::new(channel),
                    defaults: CallOptions::from_js(&arg(defaults))?,
                })
            }
        }
    };
}

client!(
    #[doc = " `demo.v1.Greeter`."]
    GreeterClient => proto::greeter_client::GreeterClient<Channel>
);
client!(
    #[doc = " `demo.v1.Updates`."]
    UpdatesClient => proto::updates_client::UpdatesClient<Channel>
);
client!(
    #[doc = " `demo.v1.Work`."]
    WorkClient => proto::work_client::WorkClient<Channel>
);
client!(
    #[doc = " `demo.v1.Stats`: the server's live counters."]
    StatsClient => proto::stats_client::StatsClient<Channel>
);

/// One RPC as a method of a client class: a unary call returns a promise, a
/// server stream an async iterable (`MessageStream`).
macro_rules! rpc {
    ($(#[doc = $doc:tt])* $client:ident . $method:ident as $js:literal ($arg:ty) -> $ret:literal via $run:ident) => {
        #[wasm_bindgen]
        impl $client {
            $(#[doc = $doc])*
            #[wasm_bindgen(js_name = $js, unchecked_return_type = $ret)]
            pub fn $method(&self, request: $arg, options: Option<CallOptionsArg>) -> JsValue {
                let mut client = self.client.clone();
                $run(&self.defaults, request.into(), arg(options), move |r| async move {
                    client.$method(r).await
                })
                .into()
            }
        }
    };
}

rpc!(
    #[doc = " Resolves with `{ message }`; rejects with a `GrpcError` or a `TypeError`."]
    GreeterClient.say_hello as "sayHello"(HelloRequestArg) -> "Promise<HelloReply>" via unary
);
rpc!(
    #[doc = " Updates as an async iterable: `for await` reads them, `break` cancels the call."]
    UpdatesClient.watch as "watch"(WatchRequestArg) -> "MessageStream<Update>" via server_stream
);
rpc!(
    #[doc = " Resolves with `{ result }` (the number of primes below `n`)."]
    WorkClient.compute as "compute"(ComputeRequestArg) -> "Promise<ComputeReply>" via unary
);
rpc!(
    #[doc = " Snapshots of every tier's counters every `intervalMs`, as an async iterable."]
    StatsClient.watch as "watch"(StatsRequestArg) -> "MessageStream<StatsSnapshot>" via server_stream
);
