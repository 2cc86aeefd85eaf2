//! The benchmark's echo on AWS's official Rust runtime, `lambda_runtime`,
//! written as its documentation shows (`service_fn` + `run`): logs the
//! event to stderr and answers `Echoing request: '<event>'`. The event is
//! taken as raw JSON (`RawValue`) so its bytes are echoed unchanged; the
//! answer, a `String`, goes out JSON-encoded, as lambda_runtime sends
//! every handler result.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

async fn echo(event: LambdaEvent<Box<RawValue>>) -> Result<String, Error> {
    let body = event.payload.get();
    eprintln!("{body}");
    Ok(format!("Echoing request: '{body}'"))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(echo)).await
}
