//! `/greet`: a unary call with a deadline and a cancel button. The call's
//! `CallScope` lives in the component: Cancel aborts it, and so does leaving
//! the route (the component unmounts and drops it).
use std::{cell::RefCell, rc::Rc, time::Duration};

use grpc_web_abort::{CallScope, Channel, RequestExt};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::{
    outcome::describe,
    proto::{HelloRequest, greeter_client::GreeterClient},
    server,
};

#[component]
pub fn Greet() -> Html {
    let delay = use_node_ref();
    let deadline = use_node_ref();
    let outcome = use_state(String::new);
    let scope: Rc<RefCell<Option<CallScope>>> = use_mut_ref(|| None);
    {
        // Unmounting cancels a call in flight.
        let scope = scope.clone();
        use_effect_with((), move |_| move || drop(scope.borrow_mut().take()));
    }
    let send = {
        let (delay, deadline, outcome, scope) = (
            delay.clone(),
            deadline.clone(),
            outcome.clone(),
            scope.clone(),
        );
        Callback::from(move |_| {
            let delay_ms = number_in(&delay);
            let deadline_ms = number_in(&deadline);
            let call = CallScope::new();
            let signal = call.signal();
            // A new call replaces (and so cancels) the previous one.
            *scope.borrow_mut() = Some(call);
            outcome.set("RUNNING".to_owned());
            let outcome = outcome.setter();
            yew::platform::spawn_local(async move {
                let mut greeter = GreeterClient::new(Channel::new(server::url()));
                let request = tonic::Request::new(HelloRequest {
                    name: "Yew".into(),
                    delay_ms,
                })
                .with_signal(&signal)
                .with_timeout(Duration::from_millis(deadline_ms.into()));
                outcome.set(match greeter.say_hello(request).await {
                    Ok(reply) => format!("OK: {}", reply.into_inner().message),
                    Err(status) => describe(&status),
                });
            });
        })
    };
    let cancel = {
        let scope = scope.clone();
        Callback::from(move |_| {
            if let Some(call) = scope.borrow().as_ref() {
                call.abort();
            }
        })
    };
    html! {
        <section>
            <h1>{ "Greet" }</h1>
            <label>{ "Server delay (ms) " }<input ref={delay} id="delay" type="number" value="3000" /></label>
            <label>{ " Deadline (ms) " }<input ref={deadline} id="deadline" type="number" value="500" /></label>
            <button id="send" onclick={send}>{ "Send" }</button>
            <button id="cancel" onclick={cancel}>{ "Cancel" }</button>
            <p>{ "Outcome: " }<output id="outcome">{ (*outcome).clone() }</output></p>
        </section>
    }
}

/// The input's value as a number of milliseconds (0 if it is not one).
fn number_in(input: &NodeRef) -> u32 {
    input
        .cast::<HtmlInputElement>()
        .and_then(|i| i.value().parse().ok())
        .unwrap_or(0)
}
