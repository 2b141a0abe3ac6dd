//! Refusals made by the HTTP/1 codec before a request reaches the application (a malformed
//! request line or header, a request head larger than the codec accepts, a head that does not
//! arrive in time) carry the same `{"error_code","message"}` body as every other refusal.
//!
//! actix-http answers those itself with an empty body and closes the connection; it offers no
//! hook to shape them. So each connection's stream is wrapped: a response head that is exactly
//! such a canned refusal (a status below, `content-length: 0`, `connection: close`, nothing
//! after the head) is replaced by the same status with the error JSON. The application's own
//! error answers always carry a body and never match.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ErrorCode;

/// The codec's canned refusals: status line, the error code answered, and the message.
const CANNED: &[(&[u8], ErrorCode, &str)] = &[
    (
        b"HTTP/1.1 400 Bad Request\r\n",
        ErrorCode::BadRequest,
        "The request is not valid HTTP/1.1 (request line, header, Content-Length or Transfer-Encoding).",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        ErrorCode::PayloadTooLarge,
        "The request head (request line and headers) is larger than the server accepts: at most 128 KiB and 96 headers.",
    ),
    (
        b"HTTP/1.1 408 Request Timeout\r\n",
        ErrorCode::BadRequest,
        "The request head did not arrive in time.",
    ),
];

/// The answer that replaces a canned refusal head `head`, or `None` when `head` is not one.
pub fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (line, code, message) = CANNED.iter().find(|(line, _, _)| head.starts_with(line))?;
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let is_canned = text.ends_with("\r\n\r\n")
        && text.matches("\r\n\r\n").count() == 1
        && text.contains("\r\ncontent-length: 0\r\n")
        && text.contains("\r\nconnection: close\r\n");
    if !is_canned {
        return None;
    }
    let wire = code.wire().1;
    let body = serde_json::json!({ "error_code": wire, "message": message }).to_string();
    // The status line stays the codec's (431 for a head too large, with the error code of
    // every size limit).
    let line = String::from_utf8_lossy(line);
    Some(
        format!(
            "{line}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A connection's stream whose canned codec refusals are rewritten (see the module docs).
pub struct JsonRefusals {
    inner: TcpStream,
    /// A replacement accepted from the codec and not yet written.
    pending: Vec<u8>,
    written: usize,
}

impl JsonRefusals {
    pub fn new(inner: TcpStream) -> Self {
        JsonRefusals { inner, pending: Vec::new(), written: 0 }
    }

    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.inner.peer_addr().ok()
    }

    /// Writes what is pending; `Ready(Ok)` once nothing is.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for JsonRefusals {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JsonRefusals {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Poll::Ready(Err(e)) = this.drive(cx) {
            return Poll::Ready(Err(e));
        }
        if !this.pending.is_empty() {
            return Poll::Pending;
        }
        if let Some(answer) = replacement(buf) {
            // Accepted whole; written by this call or the flush that follows.
            this.pending = answer;
            if let Poll::Ready(Err(e)) = this.drive(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drive(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drive(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn canned_refusals_become_the_error_json() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: Wed, 02 Dec 2026 23:44:02 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(head).expect("replaced")).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
        let body: serde_json::Value = serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["error_code"], "REQUEST_LIMIT_EXCEEDED");
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        assert!(String::from_utf8(replacement(bad).unwrap()).unwrap().contains("\"BAD_REQUEST\""));
    }

    #[test]
    fn application_answers_are_left_alone() {
        // The application's refusals carry a body; a kept-alive empty 400 is not the codec's.
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
        assert!(replacement(with_body).is_none());
        let kept_alive = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(kept_alive).is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").is_none());
    }
}
