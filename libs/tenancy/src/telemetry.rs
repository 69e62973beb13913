//! JSON logs, one line per event, with `request_id` and `tenant_id` on every
//! line of a request. Level from `RUST_LOG`: one of `error`, `warn`, `info`
//! (the default), `debug`, `trace`, `off`. Per-module directives are not
//! supported: `tracing-subscriber`'s `env-filter` would bring the `regex`
//! crates into every function (zip size, cold start) for them.

use tracing::Span;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::ids::TenantId;

/// Installs the JSON subscriber for the process. Call once, first thing in `main`.
pub fn init_tracing() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(std::io::stdout));
}

/// The subscriber [`init_tracing`] installs, writing to `writer`.
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level(std::env::var("RUST_LOG").ok().as_deref()))
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// The level a `RUST_LOG` value names; `info` when unset or not a single level.
pub fn level(rust_log: Option<&str>) -> LevelFilter {
    rust_log.and_then(|value| value.trim().parse().ok()).unwrap_or(LevelFilter::INFO)
}

/// The span of one request; enter it (or `.instrument` the handler future) so
/// that every line logged inside carries the ids.
pub fn request_span(request_id: &str) -> Span {
    tracing::info_span!("request", request_id = %request_id, tenant_id = tracing::field::Empty)
}

/// Records the tenant on the request span once the claims are verified.
pub fn record_tenant(span: &Span, tenant: &TenantId) {
    span.record("tenant_id", tracing::field::display(tenant));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn the_level_comes_from_rust_log_or_is_info() {
        assert_eq!(level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level(Some(" WARN ")), LevelFilter::WARN);
        assert_eq!(level(Some("off")), LevelFilter::OFF);
        assert_eq!(level(None), LevelFilter::INFO);
        assert_eq!(level(Some("tenancy=debug,info")), LevelFilter::INFO);
    }

    #[test]
    fn every_line_of_a_request_carries_request_and_tenant_ids() {
        let buffer = Buffer::default();
        let tenant = TenantId::generate();
        tracing::subscriber::with_default(json_subscriber(buffer.clone()), || {
            let span = request_span("req-42");
            let _entered = span.enter();
            record_tenant(&span, &tenant);
            tracing::info!(note_count = 3, "listed notes");
            tracing::warn!("something odd");
        });
        let output = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<serde_json::Value> =
            output.lines().map(|line| serde_json::from_str(line).expect("one JSON object per line")).collect();
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(line["span"]["request_id"], "req-42", "{line}");
            assert_eq!(line["span"]["tenant_id"], tenant.to_string(), "{line}");
        }
        assert_eq!(lines[0]["message"], "listed notes");
        assert_eq!(lines[0]["note_count"], 3);
    }
}
