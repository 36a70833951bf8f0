//! Connections that never send a byte, closed: tonic 0.14 closes a
//! connection that sends half an HTTP/1.1 header (hyper's header read
//! timeout, 30 s) and finds dead HTTP/2 peers with keepalive PINGs if asked,
//! but a client that connects and stays silent is held forever, and enough
//! of them take every file descriptor the process may have. This wraps the
//! listener's connections for `serve_with_incoming`: one whose first byte
//! has not arrived within the timeout fails its next read, and hyper drops
//! it. (A wrapper of the connection, because tonic's builder has no setting
//! for it and hyper-util's auto server has no timeout before the first byte.)
use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{Stream, StreamExt as _};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};
use tonic::transport::server::Connected;

/// Wraps each connection of `incoming` in [`FirstByteTimeout`]:
///
/// ```
/// # async fn f() -> std::io::Result<()> {
/// use std::time::Duration;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let incoming = tonic_deadline::first_byte_timeout(
///     tokio_stream::wrappers::TcpListenerStream::new(listener),
///     Duration::from_secs(10),
/// );
/// // Server::builder()...serve_with_incoming_shutdown(incoming, shutdown.on_signal())
/// # let _ = incoming;
/// # Ok(())
/// # }
/// ```
pub fn first_byte_timeout<S, IO, E>(
    incoming: S,
    timeout: Duration,
) -> impl Stream<Item = Result<FirstByteTimeout<IO>, E>>
where
    S: Stream<Item = Result<IO, E>>,
{
    incoming.map(move |io| io.map(|io| FirstByteTimeout::new(io, timeout)))
}

/// A connection that fails to read (`TimedOut`) if its first byte has not
/// arrived within its timeout; afterwards, the connection itself.
pub struct FirstByteTimeout<IO> {
    io: IO,
    /// Until the first byte has arrived.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<IO> FirstByteTimeout<IO> {
    /// Starts the clock now.
    pub fn new(io: IO, timeout: Duration) -> Self {
        FirstByteTimeout {
            io,
            waiting: Some(Box::pin(tokio::time::sleep(timeout))),
        }
    }

    /// The wrapped connection.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }
}

impl<IO: Connected> Connected for FirstByteTimeout<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for FirstByteTimeout<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Some(waiting) = this.waiting.as_mut() {
            match polled {
                Poll::Ready(Ok(())) if buf.filled().len() > before => this.waiting = None,
                Poll::Pending if waiting.as_mut().poll(cx).is_ready() => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent nothing in time",
                    )));
                }
                _ => {}
            }
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for FirstByteTimeout<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
