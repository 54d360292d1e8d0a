//! The functions' log subscriber: one line per event on stdout, a JSON object
//! when Lambda's advanced logging controls ask for it
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`), carrying the runtime's span with the
//! invocation's `requestId`. It is lambda_runtime's default subscriber without
//! `EnvFilter` and its regex engine (smaller binary, less start-up work): the
//! level is one plain level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`
//! (`error`, `warn`, `info`, `debug`, `trace`), default `info`.

use tracing_subscriber::filter::LevelFilter;

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let subscriber =
        tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level);
    let _ = if json { subscriber.json().try_init() } else { subscriber.try_init() };
}
