//! Runs a decoder on its own thread so that decompression and parsing overlap.

use std::io::{self, Read};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};

/// Size of the chunks handed from the decoding thread to the reader.
const CHUNK: usize = 1 << 20;
/// Chunks in flight: bounds the memory to `(DEPTH + 2) × CHUNK`.
const DEPTH: usize = 4;

/// A `Read` whose data is produced by another thread reading `inner`.
///
/// Memory is bounded: at most `DEPTH` chunks wait in the channel, and chunk buffers are
/// recycled. Dropping the reader stops the thread after its current read.
pub(crate) struct ThreadedRead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    recycle: Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ThreadedRead {
    /// Starts a thread that reads `inner` to its end.
    pub(crate) fn spawn(mut inner: Box<dyn Read + Send>) -> ThreadedRead {
        let (chunk_tx, chunks) = bounded::<io::Result<Vec<u8>>>(DEPTH);
        let (recycle, recycled) = bounded::<Vec<u8>>(DEPTH + 2);
        thread::Builder::new()
            .name("seqio-decode".into())
            .spawn(move || {
                loop {
                    let mut buf = recycled.try_recv().unwrap_or_default();
                    buf.resize(CHUNK, 0);
                    let result = read_full(&mut inner, &mut buf).map(|n| {
                        buf.truncate(n);
                        buf
                    });
                    let stop = !matches!(&result, Ok(b) if !b.is_empty());
                    if chunk_tx.send(result).is_err() || stop {
                        return;
                    }
                }
            })
            .expect("spawning the decoder thread");
        ThreadedRead { chunks, recycle, current: Vec::new(), pos: 0, done: false }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read (fewer than
/// `buf.len()` only at the end of the input).
pub(crate) fn read_full(inner: &mut (impl Read + ?Sized), buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match inner.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for ThreadedRead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    let _ = self.recycle.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_through_in_order() {
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let mut reader = ThreadedRead::spawn(Box::new(io::Cursor::new(data.clone())));
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn forwards_errors() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt deflate stream"))
            }
        }
        let mut reader = ThreadedRead::spawn(Box::new(Failing));
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("corrupt deflate"));
    }
}
