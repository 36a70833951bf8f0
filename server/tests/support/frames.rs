//! The frames an HTTP/2 server sends, as a client connection reads them:
//! for checks on a frame itself (GOAWAY) rather than on its effect (a
//! closed connection looks the same whether or not GOAWAY came first).
use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// HTTP/2's GOAWAY frame type (RFC 9113, 6.8).
pub const GOAWAY: u8 = 0x7;

/// The types of the frames received so far, in order.
#[derive(Clone, Default, Debug)]
pub struct Frames(Arc<Mutex<Vec<u8>>>);

impl Frames {
    pub fn seen(&self, frame_type: u8) -> bool {
        self.0.lock().unwrap().contains(&frame_type)
    }
}

/// A client's connection whose incoming bytes are parsed as frames (a server
/// sends nothing before its first frame, unlike a client's preface).
pub struct Logged<T> {
    io: T,
    frames: Frames,
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload: usize,
}

impl<T> Logged<T> {
    pub fn new(io: T) -> (Logged<T>, Frames) {
        let frames = Frames::default();
        let logged = Logged {
            io,
            frames: frames.clone(),
            header: Vec::with_capacity(9),
            payload: 0,
        };
        (logged, frames)
    }

    fn read(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.payload > 0 {
                let n = data.len().min(self.payload);
                self.payload -= n;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(9 - self.header.len());
            self.header.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.header.len() == 9 {
                let h = &self.header;
                self.payload = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                self.frames.0.lock().unwrap().push(h[3]);
                self.header.clear();
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Logged<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = buf.filled()[before..].to_vec();
            self.read(&new);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Logged<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
