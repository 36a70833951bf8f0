//! The app's frame: routes, navigation links and a log of how calls ended
//! (kept here, above the routes, so it outlives the components whose calls
//! it records).
use std::rc::Rc;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{feed::Live, greet::Greet};

#[derive(Clone, Copy, Debug, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Live,
    #[at("/greet")]
    Greet,
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// Appends a line to the app's log.
pub type Log = Callback<String>;

#[derive(Default, PartialEq)]
struct Lines(Vec<String>);

impl Reducible for Lines {
    type Action = String;

    fn reduce(self: Rc<Self>, line: String) -> Rc<Self> {
        let mut lines = self.0.clone();
        lines.push(line);
        Rc::new(Lines(lines))
    }
}

#[component]
pub fn App() -> Html {
    let lines = use_reducer(Lines::default);
    let log: Log = {
        let lines = lines.dispatcher();
        Callback::from(move |line| lines.dispatch(line))
    };
    html! {
        <BrowserRouter>
            <ContextProvider<Log> context={log}>
                <nav>
                    <Link<Route> to={Route::Live}>{ "Live updates" }</Link<Route>>
                    { " · " }
                    <Link<Route> to={Route::Greet}>{ "Greet" }</Link<Route>>
                </nav>
                <main>
                    <Switch<Route> render={switch} />
                </main>
                <h2>{ "How calls ended" }</h2>
                <ol id="log">
                    { for lines.0.iter().map(|line| html! { <li>{ line }</li> }) }
                </ol>
            </ContextProvider<Log>>
        </BrowserRouter>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Live => html! { <Live /> },
        Route::Greet => html! { <Greet /> },
        Route::NotFound => html! { <p>{ "Not found." }</p> },
    }
}
