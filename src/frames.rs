//! gRPC-Web's response framing as plain Rust (no JS types, so it is fuzzed
//! on the host): the 5-byte frame headers, the receive limit checked on a
//! header before its payload is buffered, the trailers frame's lines and the
//! status they carry. A server, a proxy or a broken connection controls
//! every byte here, so nothing below may panic or trust a length.
use crate::{
    ascii::{digits, join},
    status::{Code, Failure},
};

/// A frame header: flags (one byte) and a big-endian `u32` length.
const HEADER: usize = 5;
const MESSAGE: u8 = 0x00;
const TRAILERS: u8 = 0x80;

/// gRPC clients' default receive limit (grpc-go, grpc-java, tonic): 4 MiB.
pub const DEFAULT_MAX_RECEIVE: usize = 4 << 20;
/// The trailers frame's own limit, whatever the messages' is: trailers are
/// metadata, a few lines (and more than browsers allow in headers).
const MAX_TRAILERS: u32 = 1 << 20;

#[cfg(feature = "js-api")]
/// One whole frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    Message(Vec<u8>),
    /// The trailers frame's `name: value` lines.
    Trailers(Vec<u8>),
}

#[cfg(feature = "js-api")]
/// The response's bytes as they arrive, cut into frames.
pub(crate) struct Frames {
    buffer: Vec<u8>,
    /// Where the next frame starts in `buffer` (taken frames are dropped
    /// when more bytes arrive, so taking one costs no copy of the rest).
    start: usize,
    limit: usize,
    /// The option that sets `limit`, named in the error.
    option: &'static str,
}

#[cfg(feature = "js-api")]
impl Frames {
    pub fn new(limit: usize, option: &'static str) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            limit,
            option,
        }
    }

    /// Adds bytes of the body; fails if they complete a header that is
    /// refused (see [`Frames::next`]), so they are not kept.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(bytes);
        // Check a header that just arrived before a larger body can follow.
        self.header().map(drop)
    }

    /// Whether a frame was begun and not finished.
    pub fn in_frame(&self) -> bool {
        self.buffer.len() > self.start
    }

    /// The next whole frame, if it is all here. A header is judged as soon
    /// as it is: flags other than a message's or the trailers' (compressed
    /// or unknown) are INTERNAL, a length over the limit RESOURCE_EXHAUSTED.
    pub fn next(&mut self) -> Result<Option<Frame>, Failure> {
        let Some((flags, len)) = self.header()? else {
            return Ok(None);
        };
        let rest = &self.buffer[self.start + HEADER..];
        // `len <= limit` (checked) and the buffer holds it: no overflow below.
        if rest.len() < len {
            return Ok(None);
        }
        let payload = rest[..len].to_vec();
        self.start += HEADER + len;
        Ok(Some(if flags == TRAILERS {
            Frame::Trailers(payload)
        } else {
            Frame::Message(payload)
        }))
    }

    /// The header at `start`, judged, once all five bytes are in.
    fn header(&self) -> Result<Option<(u8, usize)>, Failure> {
        match self.buffer.get(self.start..self.start + HEADER) {
            Some(&[flags, a, b, c, d]) => {
                judge(flags, [a, b, c, d], self.limit, self.option).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// A frame header's flags and length, refused if the flags are not a
/// message's or the trailers' (compressed or unknown: INTERNAL) or the
/// length is over the limit (RESOURCE_EXHAUSTED): `limit`, set by `option`,
/// for a message.
fn judge(flags: u8, len: [u8; 4], limit: usize, option: &str) -> Result<(u8, usize), Failure> {
    let len = u32::from_be_bytes(len);
    let over = match flags {
        // Compared as u64: `len` may not fit a 32-bit usize's arithmetic.
        MESSAGE => (u64::from(len) > limit as u64).then(|| {
            join(&[
                "a reply message of ",
                &digits(len.into()),
                " bytes is over the limit of ",
                &digits(limit as u64),
                " bytes (",
                option,
                ")",
            ])
        }),
        TRAILERS => (len > MAX_TRAILERS).then(|| {
            join(&[
                "trailers of ",
                &digits(len.into()),
                " bytes are over the limit of ",
                &digits(MAX_TRAILERS.into()),
                " bytes",
            ])
        }),
        0x01 => {
            return Err(Failure::new(
                Code::INTERNAL,
                "a compressed frame, but the client asked for no compression",
            ));
        }
        other => {
            return Err(Failure::new(
                Code::INTERNAL,
                join(&["a frame with unknown flags ", &digits(other.into())]),
            ));
        }
    };
    match over {
        Some(message) => Err(Failure::new(Code::RESOURCE_EXHAUSTED, message)),
        // Not over a limit, so it fits a usize.
        None => Ok((flags, len as usize)),
    }
}

#[cfg(feature = "js-api")]
/// The trailers frame's `name: value` lines (CRLF-separated), trimmed of
/// ASCII whitespace (HTTP's is: SP, HTAB, and the CR of CRLF; which also
/// keeps Unicode's whitespace tables out of the wasm); a frame that is not
/// UTF-8 has none.
pub(crate) fn trailer_lines(block: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    let text = std::str::from_utf8(block).unwrap_or_default();
    crate::ascii::split(text, b'\n')
        .filter_map(|line| crate::ascii::split_once(line, b':'))
        .map(|(name, value)| (name.trim_ascii(), value.trim_ascii()))
}

#[cfg(feature = "js-api")]
/// The call's outcome from its `grpc-status` and `grpc-message` (headers of
/// a trailers-only response, or trailers): `None` for OK.
pub(crate) fn status(grpc_status: Option<&str>, grpc_message: Option<&str>) -> Option<Failure> {
    let code = grpc_status.map_or(Code::UNKNOWN, Code::from_number);
    (code != Code::OK)
        .then(|| Failure::new(code, grpc_message.map(percent_decode).unwrap_or_default()))
}

#[cfg(feature = "js-api")]
/// `grpc-message` is percent-encoded UTF-8; anything undecodable stays as sent.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        if byte == b'%'
            && let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Watches a gRPC-Web body go by without keeping it (the Rust `Channel`'s
/// transport, whose framing is tonic-web's): fails on a header announcing a
/// frame over the limit before tonic-web starts buffering it, and tells
/// where the trailers frame ends, which ends the body.
pub(crate) struct FrameLimit {
    limit: usize,
    /// The header being read, and how much of it is in.
    header: [u8; HEADER],
    have: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: usize,
    saw_trailers: bool,
}

impl FrameLimit {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            header: [0; HEADER],
            have: 0,
            payload_left: 0,
            saw_trailers: false,
        }
    }

    /// Whether a trailers frame began.
    pub fn saw_trailers(&self) -> bool {
        self.saw_trailers
    }

    /// Reads `chunk`; `Some(n)` once the trailers frame has ended, its
    /// last byte `chunk[n - 1]`: the call is over there, as the JS API's
    /// (`js/transport.rs`), and whatever follows is not read. tonic-web
    /// would otherwise hand on a message that follows the trailers in the
    /// same chunk, after the status (before it, in fact: it holds trailers
    /// until the body ends).
    pub fn check(&mut self, mut chunk: &[u8]) -> Result<Option<usize>, Failure> {
        let len = chunk.len();
        while !chunk.is_empty() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min(chunk.len());
                chunk = &chunk[skip..];
                self.payload_left -= skip;
                continue;
            }
            if self.saw_trailers {
                return Ok(Some(len - chunk.len()));
            }
            let take = (HEADER - self.have).min(chunk.len());
            self.header[self.have..self.have + take].copy_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            self.have += take;
            if self.have == HEADER {
                let [flags, a, b, c, d] = self.header;
                let option = "max_decoding_message_size";
                (_, self.payload_left) = judge(flags, [a, b, c, d], self.limit, option)?;
                self.saw_trailers |= flags == TRAILERS;
                self.have = 0;
            }
        }
        let ended = self.saw_trailers && self.have == 0 && self.payload_left == 0;
        Ok(ended.then_some(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![flags];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn frames_come_out_whole_however_the_bytes_are_cut() {
        let mut body = frame(0, b"one");
        body.extend(frame(0, b""));
        body.extend(frame(0x80, b"grpc-status:0\r\n"));
        for cut in 0..body.len() {
            let mut frames = Frames::new(100, "limit");
            let mut out = Vec::new();
            for part in [&body[..cut], &body[cut..]] {
                frames.push(part).unwrap();
                while let Some(frame) = frames.next().unwrap() {
                    out.push(frame);
                }
            }
            assert_eq!(
                out,
                [
                    Frame::Message(b"one".to_vec()),
                    Frame::Message(Vec::new()),
                    Frame::Trailers(b"grpc-status:0\r\n".to_vec())
                ]
            );
            assert!(!frames.in_frame());
        }
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn a_length_over_the_limit_fails_on_its_header() {
        let mut frames = Frames::new(4 << 20, "maxReceiveMessageBytes");
        let failure = frames.push(&[0, 0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(failure.code, Code::RESOURCE_EXHAUSTED);
        assert_eq!(
            failure.message,
            "a reply message of 4294967295 bytes is over the limit of 4194304 bytes (maxReceiveMessageBytes)"
        );
        // At the limit is fine, and waits for its bytes.
        let mut frames = Frames::new(3, "limit");
        frames.push(&[0, 0, 0, 0, 3, 1]).unwrap();
        assert_eq!(frames.next(), Ok(None));
        assert!(frames.in_frame());
        // Trailers have their own limit, whatever the messages'.
        let mut frames = Frames::new(3, "limit");
        frames.push(&[0x80, 0, 0, 0, 4, 1, 2, 3, 4]).unwrap();
        assert!(matches!(frames.next(), Ok(Some(Frame::Trailers(_)))));
        let failure = frames.push(&[0x80, 0, 0x10, 0, 1]).unwrap_err();
        assert_eq!(
            failure.message,
            "trailers of 1048577 bytes are over the limit of 1048576 bytes"
        );
        // The whole u32 range with no limit at all.
        let mut frames = Frames::new(usize::MAX, "limit");
        frames.push(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2]).unwrap();
        assert_eq!(frames.next(), Ok(None));
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn compressed_and_unknown_frames_fail_on_their_header() {
        for (flags, text) in [(1, "compressed"), (0x81, "unknown flags 129")] {
            let failure = Frames::new(10, "l").push(&[flags, 0, 0, 0, 0]).unwrap_err();
            assert_eq!(failure.code, Code::INTERNAL);
            assert!(failure.message.contains(text), "{}", failure.message);
        }
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn trailer_lines_split_on_crlf_and_the_first_colon() {
        let block = b"grpc-status:0\r\ngrpc-message: a: b \r\nx-b: 1\r\n";
        let lines: Vec<_> = trailer_lines(block).collect();
        assert_eq!(
            lines,
            [("grpc-status", "0"), ("grpc-message", "a: b"), ("x-b", "1")]
        );
        assert_eq!(trailer_lines(b"\xff").count(), 0);
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn statuses_come_from_grpc_status_and_grpc_message() {
        assert_eq!(status(Some("0"), Some("ignored")), None);
        assert_eq!(
            status(Some("5"), Some("no%20such")),
            Some(Failure::new(Code::NOT_FOUND, "no such"))
        );
        assert_eq!(status(None, None), Some(Failure::new(Code::UNKNOWN, "")));
    }

    #[test]
    #[cfg(feature = "js-api")]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("a%20b%E2%9C%93"), "a b✓");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn the_frame_limit_watches_headers_across_chunks() {
        let mut body = frame(0, &[7; 10]);
        body.extend(frame(0x80, b"grpc-status:0\r\n"));
        for cut in 0..body.len() {
            let mut limit = FrameLimit::new(15);
            limit.check(&body[..cut]).unwrap();
            assert!(!limit.saw_trailers() || cut > 15);
            limit.check(&body[cut..]).unwrap();
            assert!(limit.saw_trailers());
        }
        let mut body = frame(0, &[7; 10]);
        body.extend([0, 0, 0, 0, 16]);
        for cut in 0..body.len() {
            let mut limit = FrameLimit::new(15);
            let outcome = limit.check(&body[..cut]).and(limit.check(&body[cut..]));
            let failure = outcome.unwrap_err();
            assert_eq!(failure.code, Code::RESOURCE_EXHAUSTED);
            assert!(failure.message.contains("max_decoding_message_size"));
        }
    }

    #[test]
    fn the_frame_limit_tells_where_the_trailers_end_however_the_bytes_are_cut() {
        let mut body = frame(0, &[7; 10]);
        body.extend(frame(0x80, b"grpc-status:0\r\n"));
        let end = body.len();
        body.extend(frame(0, &[8; 3])); // after the trailers: never read
        for cut in 0..=end {
            let mut limit = FrameLimit::new(15);
            let first = limit.check(&body[..cut]).unwrap();
            let second = limit.check(&body[cut..]).unwrap();
            match first {
                // The trailers ended exactly at the cut.
                Some(n) => assert_eq!((cut, n), (end, end)),
                None => assert_eq!(second, Some(end - cut), "cut at {cut}"),
            }
        }
        // Empty trailers end at their header.
        let mut limit = FrameLimit::new(15);
        assert_eq!(limit.check(&frame(0x80, b"")), Ok(Some(5)));
        // A body without trailers never ends here.
        let mut limit = FrameLimit::new(15);
        assert_eq!(limit.check(&frame(0, b"abc")), Ok(None));
    }
}
