//! `/`: the demo's updates as they stream in. The stream's signal is a
//! `CallScope` linked to the page's navigation signal, kept by the effect:
//! navigating away (the router's `pushState` is a Navigation API
//! `navigate`) or unmounting the feed (the effect's cleanup drops the
//! scope) cancels the call, and the server sees the fetch aborted.
use std::collections::VecDeque;

use grpc_web_abort::{CallScope, Channel, RequestExt, navigation_signal};
use web_sys::AbortSignal;
use yew::prelude::*;

use crate::{
    app::Log,
    outcome::describe,
    proto::{Update, WatchRequest, updates_client::UpdatesClient},
    server,
};

/// How many updates the feed shows.
const SHOWN: usize = 5;

#[component]
pub fn Live() -> Html {
    let shown = use_state(|| true);
    let toggle = {
        let shown = shown.clone();
        Callback::from(move |_| shown.set(!*shown))
    };
    html! {
        <section>
            <h1>{ "Live updates" }</h1>
            <button id="toggle-feed" onclick={toggle}>
                { if *shown { "Hide the feed" } else { "Show the feed" } }
            </button>
            if *shown { <Feed /> }
        </section>
    }
}

#[component]
fn Feed() -> Html {
    let updates = use_state(Vec::<Update>::new);
    let log = use_context::<Log>().expect("the feed is inside App");
    {
        let show = updates.setter();
        use_effect_with((), move |_| {
            let scope = CallScope::linked(&navigation_signal());
            // The call's future is not `Send` (browser objects): spawn_local.
            yew::platform::spawn_local(watch(scope.signal(), show, log));
            // Unmounting drops the scope, which aborts the stream.
            move || drop(scope)
        });
    }
    html! {
        <ul id="feed">
            { for updates.iter().map(|u| html! {
                <li key={u.seq}>{ format!("#{} {}", u.seq, u.text) }</li>
            }) }
        </ul>
    }
}

/// Streams updates into `show` until the stream ends; logs how it ended.
async fn watch(signal: AbortSignal, show: UseStateSetter<Vec<Update>>, log: Log) {
    let mut updates = UpdatesClient::new(Channel::new(server::url()));
    let request = tonic::Request::new(WatchRequest {
        topic: "yew".into(),
        interval_ms: 200,
        limit: 0,
        after_seq: 0,
    })
    .with_signal(&signal);
    let ended = match updates.watch(request).await {
        Ok(response) => {
            let mut stream = response.into_inner();
            let mut recent = VecDeque::with_capacity(SHOWN);
            loop {
                match stream.message().await {
                    Ok(Some(update)) => {
                        if recent.len() == SHOWN {
                            recent.pop_back();
                        }
                        recent.push_front(update);
                        show.set(recent.iter().cloned().collect());
                    }
                    Ok(None) => break "OK: the stream ended".to_owned(),
                    Err(status) => break describe(&status),
                }
            }
        }
        Err(status) => describe(&status),
    };
    log.emit(format!("Updates.Watch {ended}"));
}
