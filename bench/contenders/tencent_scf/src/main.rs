//! The guide's echo function on the `tencent_scf` crate (0.1.3), written the
//! way its documentation shows: a closure made into a function with
//! `make_scf` and run by `start`. The event arrives as raw bytes
//! (`Vec<u8>` implements the crate's `FromReader`), is logged to stderr like
//! the guide's `echo "$EVENT_DATA" 1>&2`, and comes back as
//! `Echoing request: '<event>'`.

use std::convert::Infallible;
use std::io::Write;

use tencent_scf::{make_scf, start, Context};

fn main() {
    let scf = make_scf(
        |event: Vec<u8>, _context: Context| -> Result<Vec<u8>, Infallible> {
            // One write of event + newline, as the other contenders do.
            let mut line = Vec::with_capacity(event.len() + 1);
            line.extend_from_slice(&event);
            line.push(b'\n');
            let _ = std::io::stderr().write_all(&line);

            let mut out = Vec::with_capacity(event.len() + 19);
            out.extend_from_slice(b"Echoing request: '");
            out.extend_from_slice(&event);
            out.push(b'\'');
            Ok(out)
        },
    );
    start(scf);
}
