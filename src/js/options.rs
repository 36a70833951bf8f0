//! `CallOptions`: validated once, merged (client defaults, then the call's),
//! and turned into a call's signal, deadline and request headers.
use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, Headers};

use super::{
    error::type_error,
    value::{array_from, describe},
};
use crate::{Deadline, ascii::join, deadline::earlier, frames::DEFAULT_MAX_RECEIVE};

#[derive(Clone, Debug, Default)]
pub(crate) struct CallOptions {
    pub signal: Option<AbortSignal>,
    /// Relative, so a client default counts from each call's start.
    timeout: Option<Duration>,
    deadline_epoch_ms: Option<f64>,
    headers: Vec<(String, String)>,
    /// Called with the response headers, and with the trailers, of a call
    /// that succeeds (a failure carries both in `GrpcError.metadata`).
    pub on_header: Option<Function>,
    pub on_trailer: Option<Function>,
    /// Byte limits of a reply message and of the request message.
    max_receive: Option<usize>,
    max_send: Option<usize>,
    /// The function that sends the request instead of the global `fetch`.
    pub fetch: Option<Function>,
}

impl CallOptions {
    /// Validates a JS `CallOptions` (or `undefined`), naming the bad option.
    pub fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self::default());
        }
        if !value.is_object() {
            return Err(type_error("CallOptions must be an object"));
        }
        let get = |name: &str| {
            Reflect::get(value, &name.into())
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let fail = |e: String| type_error(&e);
        let mut options = Self::default();
        if let Some(signal) = get("signal") {
            options.signal = Some(
                signal
                    .dyn_into()
                    .map_err(|_| type_error("CallOptions.signal must be an AbortSignal"))?,
            );
        }
        if let Some(timeout) = get("timeoutMs") {
            let ms = timeout
                .as_f64()
                .ok_or_else(|| fail(timeout_problem(&timeout)))?;
            options.timeout = Some(
                timeout_from_ms(ms).map_err(|e| fail(join(&[e, ", got ", &describe(&timeout)])))?,
            );
        }
        if let Some(deadline) = get("deadline") {
            let ms = match deadline.dyn_ref::<js_sys::Date>() {
                Some(date) => date.get_time(),
                None => deadline.as_f64().unwrap_or(f64::NAN),
            };
            options.deadline_epoch_ms = Some(deadline_from_ms(ms).map_err(type_error)?);
        }
        if let Some(headers) = get("headers") {
            for (name, value) in header_entries(&headers)? {
                options.headers.push(header(name, value).map_err(fail)?);
            }
        }
        let callback = |name: &str| {
            get(name)
                .map(|f| {
                    // `typeof`, not `dyn_into`'s `instanceof` (an import of its own).
                    if f.is_function() {
                        Ok(f.unchecked_into::<Function>())
                    } else {
                        Err(type_error(&join(&[
                            "CallOptions.",
                            name,
                            " must be a function",
                        ])))
                    }
                })
                .transpose()
        };
        options.on_header = callback("onHeader")?;
        options.on_trailer = callback("onTrailer")?;
        options.fetch = callback("fetch")?;
        let limit = |name: &str| {
            get(name)
                .map(|v| {
                    byte_limit(v.as_f64()).map_err(|e| {
                        fail(join(&[
                            "CallOptions.",
                            name,
                            " ",
                            e,
                            ", got ",
                            &describe(&v),
                        ]))
                    })
                })
                .transpose()
        };
        options.max_receive = limit("maxReceiveMessageBytes")?;
        options.max_send = limit("maxSendMessageBytes")?;
        Ok(options)
    }

    /// These options (a client's defaults) under `call`'s: both signals
    /// apply, the earlier deadline wins, the call's headers win by name.
    pub fn merged(&self, call: Self) -> Self {
        let signal = match (&self.signal, call.signal) {
            (Some(a), Some(b)) => Some(any_signal(a, &b)),
            (a, b) => b.or_else(|| a.clone()),
        };
        // A plain loop: `filter().cloned().collect()` was 0.5 KB (issue 17).
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            if !call.headers.iter().any(|(n, _)| n == name) {
                headers.push((name.clone(), value.clone()));
            }
        }
        headers.extend(call.headers);
        Self {
            signal,
            timeout: earlier(self.timeout, call.timeout),
            deadline_epoch_ms: earlier(self.deadline_epoch_ms, call.deadline_epoch_ms),
            headers,
            on_header: call.on_header.or_else(|| self.on_header.clone()),
            on_trailer: call.on_trailer.or_else(|| self.on_trailer.clone()),
            max_receive: call.max_receive.or(self.max_receive),
            max_send: call.max_send.or(self.max_send),
            fetch: call.fetch.or_else(|| self.fetch.clone()),
        }
    }

    /// The most bytes a reply message may have (default 4 MiB, as gRPC's
    /// clients).
    pub fn max_receive(&self) -> usize {
        self.max_receive.unwrap_or(DEFAULT_MAX_RECEIVE)
    }

    /// The most bytes the request message may have (default: no limit but
    /// the frame's, 4 GiB - 1, as grpc-go's is 2 GiB - 1: the page built it).
    pub fn max_send(&self) -> u64 {
        self.max_send
            .map_or(u64::from(u32::MAX), |l| (l as u64).min(u64::from(u32::MAX)))
    }

    /// The call's signal: the options' and `extra` (a stream's own, which
    /// `return()` aborts), whichever aborts first.
    pub fn signal_with(&self, extra: Option<&AbortSignal>) -> Option<AbortSignal> {
        match (&self.signal, extra) {
            (Some(a), Some(b)) => Some(any_signal(a, b)),
            (a, b) => a.clone().or_else(|| b.cloned()),
        }
    }

    /// The earlier of the timeout (counted from now) and the deadline.
    pub fn deadline(&self) -> Option<Deadline> {
        Deadline::earliest(
            self.timeout.map(Deadline::after),
            self.deadline_epoch_ms.map(Deadline::at_epoch_ms),
        )
    }

    /// The request's metadata, all validated already.
    pub fn headers(&self) -> Headers {
        let headers = Headers::new().expect("Headers is constructible");
        for (name, value) in &self.headers {
            let _ = headers.append(name, value);
        }
        headers
    }
}

/// `AbortSignal.any`: aborts with the reason of whichever aborts first.
fn any_signal(a: &AbortSignal, b: &AbortSignal) -> AbortSignal {
    AbortSignal::any(&Array::of2(a, b))
}

fn timeout_problem(value: &JsValue) -> String {
    join(&[
        "CallOptions.timeoutMs must be a number, got ",
        &type_of(value),
    ])
}

fn type_of(value: &JsValue) -> String {
    value.js_typeof().as_string().unwrap_or_default()
}

fn timeout_from_ms(ms: f64) -> Result<Duration, &'static str> {
    if !ms.is_finite() || ms < 0.0 {
        return Err("CallOptions.timeoutMs must be a finite number >= 0");
    }
    // Centuries away saturate instead of failing. Whole nanoseconds by
    // `as` (which saturates), not `Duration::try_from_secs_f64`'s float
    // decoding: 0.5 KB of wasm (issue 17), the same within a nanosecond.
    let nanos = ms * 1e6;
    Ok(if nanos < u64::MAX as f64 {
        Duration::from_nanos(nanos as u64)
    } else {
        Duration::MAX
    })
}

/// A byte limit: an integer >= 0, or `Infinity` for none.
fn byte_limit(value: Option<f64>) -> Result<usize, &'static str> {
    match value {
        Some(n) if n == f64::INFINITY => Ok(usize::MAX),
        // Beyond the address space is no limit either (`as` saturates).
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as usize),
        _ => Err("must be an integer >= 0 (or Infinity for no limit)"),
    }
}

fn deadline_from_ms(epoch_ms: f64) -> Result<f64, &'static str> {
    if epoch_ms.is_finite() {
        Ok(epoch_ms)
    } else {
        Err("CallOptions.deadline must be a valid Date or finite epoch milliseconds")
    }
}

/// A header the browser will send as given: the name an HTTP token, the
/// value visible ASCII, spaces and tabs (no line breaks).
/// Takes the pair as read, so a valid one is kept without copies.
fn header(mut name: String, value: String) -> Result<(String, String), String> {
    // RFC 9110's tchar; a `match`, as a slice's `contains` would bring
    // `memchr` into the package (issue 17).
    let tchar = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+')
            || matches!(b, b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
    };
    let token = !name.is_empty() && name.bytes().all(tchar);
    if !token {
        return Err(join(&[
            "CallOptions.headers: \"",
            &name,
            "\" is not a valid header name",
        ]));
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(join(&[
            "CallOptions.headers: the value of \"",
            &name,
            "\" is not a valid header value",
        ]));
    }
    name.make_ascii_lowercase();
    Ok((name, value))
}

/// `[name, value]` pairs of a `Headers` or a plain record of strings.
/// Plain loops: the iterator adaptors this was written with expanded into
/// 1.6 KB of wasm, 0.6 KB gzipped (issue 17).
fn header_entries(headers: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    let bad = || type_error("CallOptions.headers must be a Headers or a record of strings");
    let pairs = if headers.is_instance_of::<web_sys::Headers>() {
        array_from(headers).map_err(|_| bad())?
    } else if headers.is_object() {
        Object::entries(headers.unchecked_ref())
    } else {
        return Err(bad());
    };
    let mut entries = Vec::new();
    for pair in pairs.iter() {
        let pair: Array = pair.unchecked_into();
        let name = pair.get(0).as_string().ok_or_else(bad)?;
        let Some(value) = pair.get(1).as_string() else {
            return Err(type_error(&join(&[
                "CallOptions.headers: the value of \"",
                &name,
                "\" must be a string",
            ])));
        };
        entries.push((name, value));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_must_be_finite_and_not_negative() {
        assert_eq!(timeout_from_ms(0.0), Ok(Duration::ZERO));
        assert_eq!(timeout_from_ms(1.5), Ok(Duration::from_micros(1500)));
        assert_eq!(timeout_from_ms(1e300), Ok(Duration::MAX));
        for bad in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = timeout_from_ms(bad).unwrap_err();
            assert!(e.starts_with("CallOptions.timeoutMs "), "{e}");
        }
    }

    #[test]
    fn byte_limits_are_integers_or_infinity() {
        assert_eq!(byte_limit(Some(0.0)), Ok(0));
        assert_eq!(byte_limit(Some(4096.0)), Ok(4096));
        assert_eq!(byte_limit(Some(f64::INFINITY)), Ok(usize::MAX));
        assert_eq!(byte_limit(Some(1e300)), Ok(usize::MAX));
        for bad in [
            Some(-1.0),
            Some(1.5),
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            None,
        ] {
            assert!(byte_limit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_merge_call_over_defaults() {
        let defaults = CallOptions {
            max_receive: Some(10),
            max_send: Some(20),
            ..Default::default()
        };
        let call = CallOptions {
            max_receive: Some(30),
            ..Default::default()
        };
        let merged = defaults.merged(call);
        assert_eq!((merged.max_receive(), merged.max_send()), (30, 20));
        let none = CallOptions::default();
        assert_eq!(none.max_receive(), 4 << 20);
        assert_eq!(none.max_send(), u64::from(u32::MAX));
    }

    #[test]
    fn deadlines_must_be_finite() {
        assert_eq!(deadline_from_ms(1.0), Ok(1.0));
        assert!(
            deadline_from_ms(f64::NAN)
                .unwrap_err()
                .starts_with("CallOptions.deadline ")
        );
    }

    #[test]
    fn header_names_and_values_are_checked() {
        let (name, value) = header("X-Trace".into(), "abc".into()).unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("x-trace", "abc"));
        assert!(header("x-ok".into(), "tab\tand space".into()).is_ok());
        assert!(header("x-a".into(), "é".into()).is_err());
        assert!(
            header("bad name".into(), "x".into())
                .unwrap_err()
                .contains("\"bad name\" is not a valid header name")
        );
        assert!(header("".into(), "x".into()).is_err());
        assert!(
            header("x-a".into(), "line\nbreak".into())
                .unwrap_err()
                .contains("not a valid header value")
        );
    }

    #[test]
    fn the_earlier_option_wins() {
        assert_eq!(earlier(Some(2.0), Some(1.0)), Some(1.0));
        assert_eq!(earlier(None, Some(1.0)), Some(1.0));
        assert_eq!(earlier::<f64>(None, None), None);
    }

    #[test]
    fn merging_keeps_the_earlier_deadline_and_the_calls_headers() {
        let defaults = CallOptions {
            timeout: Some(Duration::from_secs(5)),
            deadline_epoch_ms: Some(100.0),
            headers: vec![
                header("a".into(), "default".into()).unwrap(),
                header("b".into(), "default".into()).unwrap(),
            ],
            ..Default::default()
        };
        let call = CallOptions {
            timeout: Some(Duration::from_secs(1)),
            deadline_epoch_ms: Some(200.0),
            headers: vec![header("a".into(), "call".into()).unwrap()],
            ..Default::default()
        };
        let merged = defaults.merged(call);
        assert_eq!(merged.timeout, Some(Duration::from_secs(1)));
        assert_eq!(merged.deadline_epoch_ms, Some(100.0));
        let headers: Vec<_> = merged
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(headers, [("b", "default"), ("a", "call")]);
    }
}
