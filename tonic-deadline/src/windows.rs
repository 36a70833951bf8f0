//! The HTTP/2 flow-control windows of the upstream clients (the balanced
//! balanced per-backend connections and the [`Http2Client`](crate::Http2Client)).
//!
//! Not hyper's defaults (2 MiB per stream, 5 MiB per connection): h2 (since
//! 0.4.16) closes a connection with GOAWAY `ENHANCE_YOUR_CALM`
//! ("too_many_data_frames") once the small DATA frames it holds unread cost
//! more than a budget of half the connection window (a frame under 256 bytes
//! costs 256 minus its length). A relaying tier stops reading an upstream
//! stream when its own client stops reading, so one browser that stalls a
//! relayed stream of small messages used to fill a 2 MiB stream window with
//! enough frames to spend the whole 2.5 MiB budget (about 12 s at a message
//! a millisecond), and every call on that connection, whoever made it,
//! failed UNAVAILABLE. With these windows one stalled stream holds at most
//! 64 KiB (about 0.4 MiB of budget in 35-byte messages) against a 16 MiB
//! budget: dozens of stalled streams before the connection is at risk,
//! instead of one. hyper does not let the budget itself be set.
//!
//! The cost: one stream moves at most 64 KiB per round trip, as gRPC's own
//! clients start (grpc-go's initial window is 64 KiB): ample between tiers
//! in one data centre (about 1 GB/s at 50 µs), slow across continents.

/// Per stream, what a backend may send ahead of what the tier has read.
pub(crate) const STREAM_WINDOW: u32 = 64 * 1024;
/// Per connection: twice the small-frame budget h2 allows.
pub(crate) const CONNECTION_WINDOW: u32 = 32 * 1024 * 1024;
