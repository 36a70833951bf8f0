//! The demo's messages as plain JS objects with proto3-JSON (camelCase) names.
use wasm_bindgen::JsValue;

use super::fields::{Input, Output};
use crate::proto::{
    ComputeReply, ComputeRequest, HelloReply, HelloRequest, StatsRequest, StatsSnapshot, TierStats,
    Update, WatchRequest,
};

pub(crate) trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Result<Self, JsValue>;
}

pub(crate) trait ToJs {
    fn to_js(&self) -> JsValue;
}

impl FromJs for HelloRequest {
    fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        let f = Input::new(value, "HelloRequest")?;
        Ok(Self {
            name: f.string("name")?,
            delay_ms: f.uint32("delayMs")?,
        })
    }
}

impl FromJs for WatchRequest {
    fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        let f = Input::new(value, "WatchRequest")?;
        Ok(Self {
            topic: f.string("topic")?,
            interval_ms: f.uint32("intervalMs")?,
            limit: f.uint32("limit")?,
        })
    }
}

impl FromJs for ComputeRequest {
    fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        let f = Input::new(value, "ComputeRequest")?;
        Ok(Self { n: f.uint64("n")? })
    }
}

impl FromJs for StatsRequest {
    fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        let f = Input::new(value, "StatsRequest")?;
        Ok(Self {
            interval_ms: f.uint32("intervalMs")?,
        })
    }
}

impl ToJs for HelloReply {
    fn to_js(&self) -> JsValue {
        Output::new().set("message", &self.message).build()
    }
}

impl ToJs for Update {
    fn to_js(&self) -> JsValue {
        Output::new()
            .set("topic", &self.topic)
            .set_u64("seq", self.seq)
            .set("text", &self.text)
            .set_i64("sentAtMs", self.sent_at_ms)
            .build()
    }
}

impl ToJs for ComputeReply {
    fn to_js(&self) -> JsValue {
        Output::new().set_u64("result", self.result).build()
    }
}

impl ToJs for TierStats {
    fn to_js(&self) -> JsValue {
        Output::new()
            .set("tier", &self.tier)
            .set_u64("inFlight", self.in_flight)
            .set_u64("started", self.started)
            .set_u64("ok", self.ok)
            .set_u64("cancelled", self.cancelled)
            .set_u64("deadlineExceeded", self.deadline_exceeded)
            .set("lastCancelToStopMs", self.last_cancel_to_stop_ms)
            .build()
    }
}

impl ToJs for StatsSnapshot {
    fn to_js(&self) -> JsValue {
        let tiers: js_sys::Array = self.tiers.iter().map(ToJs::to_js).collect();
        Output::new().set("tiers", tiers).build()
    }
}
